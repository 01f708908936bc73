using Npgsql;

namespace Chive.ScanWorker.PdsScan;

/// <summary>
/// Which <c>pub.chive.*</c> collections we hold live records of, per repo (read from <c>indexed_records</c>; the
/// IndexWorker alone writes it). A scan sweeps these after listing them, so a record or a whole collection deleted on
/// the PDS is noticed. With <c>removedSince</c> (the freshness scan's start), also collections whose records were
/// removed since then: a unit run again after a crash reads the collections it read the first time.
/// </summary>
public sealed class HeldCollections(NpgsqlDataSource dataSource)
{
    public async Task<IReadOnlyDictionary<string, HashSet<string>>> GetAsync(
        IReadOnlyCollection<string> dids, CancellationToken cancellationToken, DateTimeOffset? removedSince = null)
    {
        var held = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        if (dids.Count == 0)
        {
            return held;
        }

        await using var command = dataSource.CreateCommand(
            "SELECT DISTINCT did, collection FROM indexed_records WHERE did = ANY(@dids) AND (deleted_at IS NULL OR deleted_at >= @since::timestamptz)");
        command.Parameters.AddWithValue("dids", dids.ToArray());
        command.Parameters.AddWithValue("since", (object?)removedSince ?? DBNull.Value);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var did = reader.GetString(0);
            if (!held.TryGetValue(did, out var collections))
            {
                held[did] = collections = new HashSet<string>(StringComparer.Ordinal);
            }

            collections.Add(reader.GetString(1));
        }

        return held;
    }
}
