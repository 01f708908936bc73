using Chive.Contracts.FreshnessScan;
using Npgsql;

namespace Chive.ScanWorker.FreshnessScan;

/// <summary>A repo with stale records: its DID, the PDS we last read it from, and the revision of its last complete read.</summary>
public sealed record StaleRepo(string Did, string? PdsUrl, string? Rev);

/// <summary>
/// Which repos hold live records inside a freshness window (read from <c>indexed_records</c> and
/// <c>repo_sync_state</c>; the IndexWorker alone writes them): counted once at the start, then walked in DID order.
/// </summary>
public sealed class StaleRepos(NpgsqlDataSource dataSource)
{
    public async Task<long> CountAsync(FreshnessWindow window, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand();
        command.CommandText = $"SELECT count(DISTINCT did) FROM indexed_records WHERE {Where(command, window)}";
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Up to <paramref name="limit"/> stale repos after <paramref name="afterDid"/>, in DID order.</summary>
    public async Task<IReadOnlyList<StaleRepo>> NextAsync(FreshnessWindow window, string? afterDid, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand();
        command.CommandText = $"""
            SELECT r.did, r.pds_url, s.rev
            FROM (SELECT did, (array_agg(pds_url ORDER BY last_synced_at DESC))[1] AS pds_url
                  FROM indexed_records WHERE {Where(command, window)} AND did > @after GROUP BY did ORDER BY did LIMIT @limit) r
            LEFT JOIN repo_sync_state s ON s.did = r.did
            ORDER BY r.did
            """;
        command.Parameters.AddWithValue("after", afterDid ?? "");
        command.Parameters.AddWithValue("limit", limit);
        var repos = new List<StaleRepo>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            repos.Add(new StaleRepo(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2)));
        }

        return repos;
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
