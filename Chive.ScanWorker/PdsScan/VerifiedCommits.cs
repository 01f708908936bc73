using Npgsql;

namespace Chive.ScanWorker.PdsScan;

/// <summary>A repo's last verified commit as recorded: on <see cref="PdsUrl"/>, at <see cref="Rev"/>, CID <see cref="CommitCid"/>.</summary>
public sealed record VerifiedCommit(string PdsUrl, string Rev, string CommitCid);

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

        await using var command = dataSource.CreateCommand(
            "SELECT did, pds_url, rev, commit_cid FROM repo_sync_state WHERE did = ANY(@dids) AND verified AND commit_cid IS NOT NULL");
        command.Parameters.AddWithValue("dids", dids.ToArray());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            commits[reader.GetString(0)] = new VerifiedCommit(reader.GetString(1), reader.GetString(2), reader.GetString(3));
        }

        return commits;
    }
}
