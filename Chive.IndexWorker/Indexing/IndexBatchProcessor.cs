using Chive.Contracts.Indexing;
using Chive.IndexWorker.Search;
using Npgsql;

namespace Chive.IndexWorker.Indexing;

/// <summary>
/// Applies one batch of an operation — records to store, or a sweep of what a PDS no longer has — to PostgreSQL and
/// Elasticsearch, and records it in the batch ledger (<c>operation_batches</c>) in the same transaction. The ledger row
/// is inserted first: a batch delivered twice finds it (waiting for the first delivery's commit if both run at once)
/// and changes nothing. Search is written before the commit, so a failed search write rolls the batch back and its
/// retry finds the records still "changed". Returns the operation's totals over all its batches.
/// </summary>
public sealed class IndexBatchProcessor(NpgsqlDataSource dataSource, RecordIndexer indexer, SearchWriter search, ILogger<IndexBatchProcessor> logger)
{
    public Task<RecordsIndexed> IndexAsync(IndexRecords batch, CancellationToken cancellationToken) =>
        RunAsync(batch.OperationId, batch.BatchId, async (connection, transaction) =>
        {
            var outcome = await indexer.IndexAsync(connection, transaction, batch.PdsUrl, batch.Records, cancellationToken);
            var documents = await EprintDocuments.ForUrisAsync(connection, transaction, outcome.ChangedEprints, cancellationToken);
            var errors = await search.WriteAsync(documents, [], cancellationToken);
            foreach (var (reason, count) in outcome.Invalid)
            {
                logger.LogWarning("Operation {OperationId}: {Count} records from {Pds} skipped: {Reason}", batch.OperationId, count, batch.PdsUrl, reason);
            }

            return new LedgerEntry(outcome.Indexed + outcome.Unchanged, outcome.Indexed, outcome.InvalidCount, 0, errors);
        }, cancellationToken);

    public Task<RecordsIndexed> SweepAsync(SweepCollection sweep, CancellationToken cancellationToken) =>
        RunAsync(sweep.OperationId, sweep.BatchId, async (connection, transaction) =>
        {
            var outcome = await RecordIndexer.SweepAsync(
                connection, transaction, sweep.Did, sweep.Collection, sweep.PresentRkeys, sweep.ListedFrom, cancellationToken);
            var errors = await search.WriteAsync([], outcome.DeletedEprints, cancellationToken);
            if (outcome.Deleted > 0)
            {
                logger.LogInformation("Operation {OperationId}: {Count} {Collection} records of {Did} are gone from their PDS: marked deleted",
                    sweep.OperationId, outcome.Deleted, sweep.Collection, sweep.Did);
            }

            return new LedgerEntry(0, 0, 0, outcome.Deleted, errors);
        }, cancellationToken);

    /// <summary>The operation's totals over every batch in the ledger.</summary>
    public async Task<RecordsIndexed> TotalsAsync(Guid operationId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT count(*), coalesce(sum(records), 0), coalesce(sum(changed), 0), coalesce(sum(invalid), 0),
                   coalesce(sum(deleted), 0), coalesce(sum(search_errors), 0)
            FROM operation_batches WHERE operation_id = @op
            """);
        command.Parameters.AddWithValue("op", operationId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new RecordsIndexed(operationId, reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5));
    }

    private async Task<RecordsIndexed> RunAsync(
        Guid operationId, Guid batchId, Func<NpgsqlConnection, NpgsqlTransaction, Task<LedgerEntry>> apply, CancellationToken cancellationToken)
    {
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            await using var claim = new NpgsqlCommand(
                "INSERT INTO operation_batches (operation_id, batch_id) VALUES (@op, @batch) ON CONFLICT DO NOTHING", connection, transaction);
            claim.Parameters.AddWithValue("op", operationId);
            claim.Parameters.AddWithValue("batch", batchId);
            if (await claim.ExecuteNonQueryAsync(cancellationToken) == 1)
            {
                var entry = await apply(connection, transaction);
                await using var record = new NpgsqlCommand("""
                    UPDATE operation_batches SET records = @records, changed = @changed, invalid = @invalid, deleted = @deleted, search_errors = @errors
                    WHERE operation_id = @op AND batch_id = @batch
                    """, connection, transaction);
                record.Parameters.AddWithValue("op", operationId);
                record.Parameters.AddWithValue("batch", batchId);
                record.Parameters.AddWithValue("records", entry.Records);
                record.Parameters.AddWithValue("changed", entry.Changed);
                record.Parameters.AddWithValue("invalid", entry.Invalid);
                record.Parameters.AddWithValue("deleted", entry.Deleted);
                record.Parameters.AddWithValue("errors", entry.SearchErrors);
                await record.ExecuteNonQueryAsync(cancellationToken);
            }
            else
            {
                logger.LogInformation("Batch {BatchId} of operation {OperationId} was already indexed: nothing to do", batchId, operationId);
            }

            await transaction.CommitAsync(cancellationToken);
        }

        return await TotalsAsync(operationId, cancellationToken);
    }

    private sealed record LedgerEntry(int Records, int Changed, int Invalid, int Deleted, int SearchErrors);
}
