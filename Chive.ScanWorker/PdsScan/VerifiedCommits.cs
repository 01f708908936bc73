using Npgsql;

namespace Chive.ScanWorker.PdsScan;

/// <summary>
/// A repo's last verified commit as recorded: on <see cref="PdsUrl"/>, at <see cref="Rev"/>, CID <see cref="CommitCid"/>;
/// <see cref="Records"/>: its Chive records as that read found them (held live, or rejected) — what a read of the same
/// commit would count for the PDS.
/// </summary>
public sealed record VerifiedCommit(string PdsUrl, string Rev, string CommitCid, long Records);

/// <summary>
/// The commits recorded as verified per repo (<c>repo_sync_state</c> with <c>verified</c>: read as a signed CAR, every
/// batch of that read applied; the IndexWorker alone writes it). A PDS scan skips a repo whose PDS lists one of these
/// as its head.
/// </summary>
public sealed class VerifiedCommits(NpgsqlDataSource dataSource)
{
    public async Task<IReadOnlyDictionary<string, VerifiedCommit>> GetAsync(IReadOnlyCollection<string> dids, CancellationToken cancellationToken)
    {
        var commits = new Dictionary<string, VerifiedCommit>(StringComparer.Ordinal);
        if (dids.Count == 0)
        {
            return commits;
        }

        await using var command = dataSource.CreateCommand("""
            SELECT s.did, s.pds_url, s.rev, s.commit_cid,
                   (SELECT count(*) FROM indexed_records r WHERE r.did = s.did AND r.deleted_at IS NULL)
                   + (SELECT count(*) FROM record_rejections j WHERE j.did = s.did)
            FROM repo_sync_state s WHERE s.did = ANY(@dids) AND s.verified AND s.commit_cid IS NOT NULL
            """);
        command.Parameters.AddWithValue("dids", dids.ToArray());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            commits[reader.GetString(0)] = new VerifiedCommit(reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetInt64(4));
        }

        return commits;
    }
}
