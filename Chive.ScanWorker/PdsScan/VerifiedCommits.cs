using System.Text.Json;
using Npgsql;

namespace Chive.ScanWorker.PdsScan;

/// <summary>
/// A repo's last verified commit as recorded: on <see cref="PdsUrl"/>, at <see cref="Rev"/>, CID <see cref="CommitCid"/>;
/// <see cref="Records"/>: its Chive records as we hold them (live, or rejected) — what a read of the same commit would
/// count for the PDS.
/// </summary>
public sealed record VerifiedCommit(string PdsUrl, string Rev, string CommitCid, long Records);

/// <summary>
/// The commits recorded as verified per repo (<c>repo_sync_state</c> with <c>verified</c>: read as a signed CAR, every
/// batch of that read applied; the IndexWorker alone writes it), as one unit of a PDS scan first found them: the unit's
/// snapshot in <c>scan_unit_commits</c> is taken once, so a unit run again skips exactly the repos it skipped before.
/// A PDS scan skips a repo whose PDS lists one of these as its head.
/// </summary>
public sealed class VerifiedCommits(NpgsqlDataSource dataSource)
{
    private const string Snapshot = """
        WITH taken AS (
            INSERT INTO scan_unit_commits (operation_id, lane, sequence, commits)
            SELECT @op, @lane, @sequence, coalesce(jsonb_agg(jsonb_build_object(
                       'did', s.did, 'pdsUrl', s.pds_url, 'rev', s.rev, 'commitCid', s.commit_cid,
                       'records', (SELECT count(*) FROM indexed_records r WHERE r.did = s.did AND r.deleted_at IS NULL)
                                  + (SELECT count(*) FROM record_rejections j WHERE j.did = s.did))), '[]'::jsonb)
            FROM repo_sync_state s WHERE s.did = ANY(@dids) AND s.verified AND s.commit_cid IS NOT NULL
            ON CONFLICT (operation_id, lane, sequence) DO NOTHING
            RETURNING commits)
        SELECT commits::text FROM taken
        UNION ALL
        SELECT commits::text FROM scan_unit_commits WHERE operation_id = @op AND lane = @lane AND sequence = @sequence
        LIMIT 1
        """;

    public async Task<IReadOnlyDictionary<string, VerifiedCommit>> GetAsync(
        Guid operationId, int lane, int sequence, IReadOnlyCollection<string> dids, CancellationToken cancellationToken)
    {
        if (dids.Count == 0)
        {
            return new Dictionary<string, VerifiedCommit>(); // a page without active repos: nothing to fix
        }

        var json = await ReadAsync(Snapshot, operationId, lane, sequence, dids, cancellationToken)
            // Taken by a run of the same unit that committed while this statement ran: its row is visible now.
            ?? await ReadAsync("SELECT commits::text FROM scan_unit_commits WHERE operation_id = @op AND lane = @lane AND sequence = @sequence",
                operationId, lane, sequence, dids, cancellationToken)
            ?? throw new InvalidOperationException($"no verified-commit snapshot for unit {sequence} of lane {lane} of operation {operationId}");
        var commits = new Dictionary<string, VerifiedCommit>(StringComparer.Ordinal);
        foreach (var commit in JsonSerializer.Deserialize<List<Recorded>>(json, JsonSerializerOptions.Web) ?? [])
        {
            commits[commit.Did] = new VerifiedCommit(commit.PdsUrl, commit.Rev, commit.CommitCid, commit.Records);
        }

        return commits;
    }

    private async Task<string?> ReadAsync(
        string sql, Guid operationId, int lane, int sequence, IReadOnlyCollection<string> dids, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(sql);
        command.Parameters.AddWithValue("op", operationId);
        command.Parameters.AddWithValue("lane", lane);
        command.Parameters.AddWithValue("sequence", sequence);
        command.Parameters.AddWithValue("dids", dids.ToArray());
        return (string?)await command.ExecuteScalarAsync(cancellationToken);
    }

    private sealed record Recorded(string Did, string PdsUrl, string Rev, string CommitCid, long Records);
}
