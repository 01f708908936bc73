using Microsoft.Extensions.Options;
using Npgsql;

namespace Chive.IndexWorker.Indexing;

/// <summary>
/// Keeps the bookkeeping tables from growing for ever: every <see cref="LedgerOptions.PruneInterval"/> it deletes
/// <c>operation_batches</c>, <c>operation_totals</c>, <c>operation_chains</c>, <c>freshness_repos</c>, <c>operation_pds_outcomes</c>
/// and <c>scan_unit_commits</c> rows not written for
/// <see cref="LedgerOptions.Retention"/>, a few thousand rows per statement so no prune holds long locks. Any number of
/// IndexWorker replicas may run it; deleting what another already deleted is nothing.
/// </summary>
public sealed class LedgerPruning(NpgsqlDataSource dataSource, IOptions<LedgerOptions> options, TimeProvider time, ILogger<LedgerPruning> logger)
    : BackgroundService
{
    private const int RowsPerStatement = 5000;

    private static readonly (string Table, string Column)[] Tables =
        [("operation_batches", "indexed_at"), ("operation_totals", "updated_at"), ("operation_chains", "updated_at"), ("freshness_repos", "created_at"),
         ("operation_pds_outcomes", "finished_at"), ("scan_unit_commits", "created_at")];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.PruneInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await PruneOnceAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
            {
                logger.LogWarning(ex, "Pruning the operation ledger failed; the next round tries again");
            }
        }
    }

    /// <summary>One round: deletes every row older than the retention; returns how many.</summary>
    public async Task<long> PruneOnceAsync(CancellationToken cancellationToken)
    {
        var before = time.GetUtcNow() - options.Value.Retention;
        long total = 0;
        foreach (var (table, column) in Tables)
        {
            int deleted;
            do
            {
                await using var command = dataSource.CreateCommand(
                    $"DELETE FROM {table} WHERE ctid IN (SELECT ctid FROM {table} WHERE {column} < @before LIMIT {RowsPerStatement})");
                command.Parameters.AddWithValue("before", before);
                deleted = await command.ExecuteNonQueryAsync(cancellationToken);
                total += deleted;
            }
            while (deleted == RowsPerStatement);
        }

        if (total > 0)
        {
            logger.LogInformation("Pruned {Rows} operation ledger rows written before {Before:u}", total, before);
        }

        return total;
    }
}
