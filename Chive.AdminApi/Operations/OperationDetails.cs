using Npgsql;

namespace Chive.AdminApi.Operations;

/// <summary>One PDS of a scan: what the scan recorded for it in the registry.</summary>
public sealed record PdsOutcomeView(string PdsUrl, string Outcome, string Status, int ChiveRecords, string? Error, DateTimeOffset FinishedAt);

/// <summary>A record the run could not index, and why.</summary>
public sealed record RejectionView(string Uri, string Reason, string? Cid, string? PdsUrl, DateTimeOffset LastSeenAt);

/// <summary>What PostgreSQL holds of one operation beyond its record in Redis.</summary>
public sealed record OperationDetailsView(IReadOnlyList<PdsOutcomeView> Pdses, IReadOnlyList<RejectionView> Rejections, long RejectionsTotal);

/// <summary>
/// The detail view's reads, from the workers' tables: the per-PDS outcomes of a scan (<c>operation_pds_outcomes</c>,
/// written by the ScanWorker as it records each) and the records the run rejected (<c>record_rejections</c>: each
/// rejected record with the last operation that saw it — a later run that sees it again takes it over). Read-only; the
/// AdminApi migrates nothing, and a table the workers have not created yet reads as empty.
/// </summary>
public sealed class OperationDetails(NpgsqlDataSource dataSource)
{
    public const int MaxPdses = 2000;
    public const int MaxRejections = 500;

    public async Task<OperationDetailsView> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var pdses = new List<PdsOutcomeView>();
        var rejections = new List<RejectionView>();
        long total = 0;
        try
        {
            await using var command = new NpgsqlCommand($"""
                SELECT pds_url, outcome, status, chive_records, error, finished_at FROM operation_pds_outcomes
                WHERE operation_id = @id ORDER BY pds_url LIMIT {MaxPdses}
                """, connection);
            command.Parameters.AddWithValue("id", id.ToString("D"));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                pdses.Add(new PdsOutcomeView(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3),
                    reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetFieldValue<DateTimeOffset>(5)));
            }
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            // The workers have not migrated this far yet: nothing recorded.
        }

        try
        {
            await using (var command = new NpgsqlCommand($"""
                SELECT uri, reason, cid, pds_url, last_seen_at, count(*) OVER () FROM record_rejections
                WHERE operation_id = @id ORDER BY uri COLLATE "C" LIMIT {MaxRejections}
                """, connection))
            {
                command.Parameters.AddWithValue("id", id);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    rejections.Add(new RejectionView(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                        reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetFieldValue<DateTimeOffset>(4)));
                    total = reader.GetInt64(5);
                }
            }
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            // The workers have not migrated this far yet: nothing recorded.
        }

        return new OperationDetailsView(pdses, rejections, total);
    }
}
