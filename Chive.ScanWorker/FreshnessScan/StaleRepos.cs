using Chive.AtProto.Identifiers;
using Chive.AtProto.Xrpc;
using Chive.Contracts.FreshnessScan;
using Npgsql;

namespace Chive.ScanWorker.FreshnessScan;

/// <summary>
/// A repo of a freshness scan's snapshot: its DID, the PDS and revision we held for it when the scan started, and —
/// when the scan listed that PDS and the listing named it — what the listing said.
/// </summary>
public sealed record StaleRepo(string Did, string? PdsUrl, string? Rev, ListedRepo? Listed);

/// <summary>What a PDS's <c>listRepos</c> said of a repo in this scan.</summary>
public sealed record ListedRepo(string PdsUrl, string Rev, string? CommitCid, bool Active);

/// <summary>The snapshot a freshness scan walks: how many repos, and since when.</summary>
public sealed record StaleSnapshot(long Repos, DateTimeOffset TakenAt);

/// <summary>
/// The repos a freshness scan checks. At its start, those holding live records inside the tier's window (read from
/// <c>indexed_records</c> and <c>repo_sync_state</c>, which the IndexWorker alone writes) are copied into
/// <c>freshness_repos</c>, with the PDS and revision we held for each; every later unit walks that snapshot in DID
/// order, so a unit run again after a crash checks the same repos against the same revisions — although the scan has
/// meanwhile confirmed, changed or removed some of them.
/// </summary>
public sealed class StaleRepos(NpgsqlDataSource dataSource)
{
    /// <summary>The lexicon's largest <c>listRepos</c> page.</summary>
    public const int ListReposPage = 1000;

    /// <summary>
    /// Takes the snapshot of the repos stale in <paramref name="window"/> — once: a start run again keeps the snapshot it
    /// took the first time — and returns its size and time.
    /// </summary>
    public async Task<StaleSnapshot> SnapshotAsync(Guid operationId, FreshnessWindow window, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand();
        command.CommandText = $"""
            WITH taken AS (
                INSERT INTO freshness_repos (operation_id, did, pds_url, rev)
                SELECT @op, r.did, coalesce(s.pds_url, r.pds_url), s.rev
                FROM (SELECT did, (array_agg(pds_url ORDER BY last_synced_at DESC))[1] AS pds_url
                      FROM indexed_records WHERE {Where(command, window)} GROUP BY did) r
                LEFT JOIN repo_sync_state s ON s.did = r.did
                WHERE NOT EXISTS (SELECT 1 FROM freshness_repos WHERE operation_id = @op)
                ON CONFLICT (operation_id, did) DO NOTHING
                RETURNING created_at)
            SELECT (SELECT count(*) FROM taken) + (SELECT count(*) FROM freshness_repos WHERE operation_id = @op),
                   coalesce((SELECT min(created_at) FROM taken), (SELECT min(created_at) FROM freshness_repos WHERE operation_id = @op), now())
            """;
        command.Parameters.AddWithValue("op", operationId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new StaleSnapshot(reader.GetInt64(0), reader.GetFieldValue<DateTimeOffset>(1));
    }

    /// <summary>
    /// The PDSes of the snapshot for which one <c>listRepos</c> page per 1,000 repos (their size at their last complete
    /// scan) costs fewer requests than one <c>getLatestCommit</c> per stale repo. A PDS of unknown size is never listed.
    /// </summary>
    public async Task<IReadOnlyList<ListedPds>> WorthListingAsync(Guid operationId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            SELECT p.pds_url, p.repo_count / {ListReposPage} + 1
            FROM freshness_repos f JOIN pds_registry p ON p.pds_url = f.pds_url
            WHERE f.operation_id = @op AND p.repo_count IS NOT NULL
            GROUP BY p.pds_url, p.repo_count
            HAVING count(*) > p.repo_count / {ListReposPage} + 1
            ORDER BY p.pds_url
            """);
        command.Parameters.AddWithValue("op", operationId);
        var listed = new List<ListedPds>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            listed.Add(new ListedPds(reader.GetString(0), reader.GetInt32(1) + 1));
        }

        return listed;
    }

    /// <summary>
    /// Keeps what one <c>listRepos</c> page of <paramref name="pdsUrl"/> says of the snapshot's repos we hold from that
    /// PDS (only those: a PDS cannot speak for repos we did not read from it). Entries without a usable revision are not
    /// kept; a repo listed twice keeps its last entry.
    /// </summary>
    public async Task RecordListingAsync(Guid operationId, string pdsUrl, IReadOnlyList<RepoEntry> page, CancellationToken cancellationToken)
    {
        var entries = page.Where(e => LatestCommit.IsRev(e.Rev)).GroupBy(e => e.Did.Value, StringComparer.Ordinal).Select(g => g.Last()).ToList();
        if (entries.Count == 0)
        {
            return;
        }

        await using var command = dataSource.CreateCommand("""
            UPDATE freshness_repos f SET listed_pds = @pds, listed_rev = l.rev, listed_cid = l.head, listed_active = l.active
            FROM unnest(@dids, @revs, @heads, @actives) AS l(did, rev, head, active)
            WHERE f.operation_id = @op AND f.did = l.did AND f.pds_url = @pds
            """);
        command.Parameters.AddWithValue("op", operationId);
        command.Parameters.AddWithValue("pds", pdsUrl);
        command.Parameters.AddWithValue("dids", entries.Select(e => e.Did.Value).ToArray());
        command.Parameters.AddWithValue("revs", entries.Select(e => e.Rev!).ToArray());
        command.Parameters.AddWithValue("heads", entries.Select(e => Cid.TryParse(e.Head, out var head, out _) ? head.Value : null).ToArray());
        command.Parameters.AddWithValue("actives", entries.Select(e => e.Active).ToArray());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Up to <paramref name="limit"/> repos of the snapshot after <paramref name="afterDid"/>, in DID order.</summary>
    public async Task<IReadOnlyList<StaleRepo>> NextAsync(Guid operationId, string? afterDid, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT did, pds_url, rev, listed_pds, listed_rev, listed_cid, listed_active
            FROM freshness_repos WHERE operation_id = @op AND did > @after ORDER BY did LIMIT @limit
            """);
        command.Parameters.AddWithValue("op", operationId);
        command.Parameters.AddWithValue("after", afterDid ?? "");
        command.Parameters.AddWithValue("limit", limit);
        var repos = new List<StaleRepo>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var listed = reader.IsDBNull(3) ? null : new ListedRepo(reader.GetString(3), reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5), reader.GetBoolean(6));
            repos.Add(new StaleRepo(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2), listed));
        }

        return repos;
    }

    /// <summary>The scan is over: its snapshot is dropped (pruned with the ledger should this never run).</summary>
    public async Task ForgetAsync(Guid operationId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM freshness_repos WHERE operation_id = @op");
        command.Parameters.AddWithValue("op", operationId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Live records inside any of the window's bounds; binds the bounds as parameters of <paramref name="command"/>.</summary>
    private static string Where(NpgsqlCommand command, FreshnessWindow window)
    {
        var any = window.Any.Select((bounds, i) =>
        {
            command.Parameters.AddWithValue($"indexedAfter{i}", (object?)bounds.IndexedAfter ?? DBNull.Value);
            command.Parameters.AddWithValue($"indexedBefore{i}", (object?)bounds.IndexedBefore ?? DBNull.Value);
            command.Parameters.AddWithValue($"syncedBefore{i}", (object?)bounds.SyncedBefore ?? DBNull.Value);
            command.Parameters.AddWithValue($"syncedAfter{i}", (object?)bounds.SyncedAfter ?? DBNull.Value);
            return $"""
                ((@indexedAfter{i}::timestamptz IS NULL OR indexed_at > @indexedAfter{i})
                  AND (@indexedBefore{i}::timestamptz IS NULL OR indexed_at <= @indexedBefore{i})
                  AND (@syncedBefore{i}::timestamptz IS NULL OR last_synced_at < @syncedBefore{i})
                  AND (@syncedAfter{i}::timestamptz IS NULL OR last_synced_at >= @syncedAfter{i}))
                """;
        }).ToList();
        return $"deleted_at IS NULL AND ({string.Join(" OR ", any)})";
    }
}
