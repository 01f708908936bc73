using System.Diagnostics;
using Chive.Contracts.Indexing;
using Chive.IndexWorker.Search;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Chive.IndexWorker.Indexing;

/// <summary>
/// Applies one batch of an operation — records to store, or a sweep of what a PDS no longer has — to PostgreSQL and
/// Elasticsearch, and records it in the batch ledger (<c>operation_batches</c>) in the same transaction. The ledger row
/// is inserted first: a batch delivered twice finds it (waiting for the first delivery's commit if both run at once)
/// and changes nothing. Search is written before the commit, so a failed search write rolls the batch back and its
/// retry finds the records still "changed". Returns the operation's running totals (<c>operation_totals</c>, updated in
/// the same transaction: one row, not a sum over the ledger).
/// </summary>
public sealed class IndexBatchProcessor(
    NpgsqlDataSource dataSource, RecordIndexer indexer, SearchWriter search, IOptions<LedgerOptions> ledger, TimeProvider time,
    ILogger<IndexBatchProcessor> logger)
{
    /// <summary>Completed (and replaced) at each batch this process commits: wakes the repo revisions waiting for their batches.</summary>
    private TaskCompletionSource _nextCommit = NewCommitSignal();

    public Task<RecordsIndexed> IndexAsync(IndexRecords batch, CancellationToken cancellationToken) =>
        RunAsync(batch.OperationId, batch.BatchId, async (connection, transaction) =>
        {
            var outcome = batch.Records.Count > 0
                ? await indexer.IndexAsync(connection, transaction, batch.PdsUrl, batch.Records, cancellationToken, batch.OperationId)
                : IndexOutcome.Nothing;
            var swept = await RecordIndexer.SweepAsync(connection, transaction, batch.Sweeps ?? [], cancellationToken);
            // The repos this batch completes, after their records: the batch's own ledger row, inserted first, is the one
            // their batches name, so they are recorded as verified as a RepoSynced after it would record them.
            var confirmed = batch.Synced is { Count: > 0 } synced
                ? await RecordReposAsync(connection, transaction, batch.OperationId, synced, cancellationToken)
                : 0;
            var documents = await EprintDocuments.ForUrisAsync(connection, transaction, outcome.ChangedEprints, cancellationToken);
            var errors = await search.WriteAsync(documents, swept.DeletedEprints, cancellationToken);
            foreach (var (reason, count) in outcome.Invalid)
            {
                logger.LogWarning("Operation {OperationId}: {Count} records from {Pds} skipped: {Reason}", batch.OperationId, count, batch.PdsUrl, reason);
            }

            LogSwept(batch.OperationId, swept, batch.Sweeps ?? []);
            return new LedgerEntry(Records: outcome.Indexed + outcome.Unchanged + confirmed, Changed: outcome.Indexed, Invalid: outcome.InvalidCount, Deleted: swept.Deleted,
                SearchErrors: errors, Added: outcome.Added);
        }, cancellationToken);

    /// <summary>A sweep sent as a batch of its own (by a ScanWorker of the previous version).</summary>
    public Task<RecordsIndexed> SweepAsync(SweepCollection sweep, CancellationToken cancellationToken) =>
        RunAsync(sweep.OperationId, sweep.BatchId, async (connection, transaction) =>
        {
            IReadOnlyList<CollectionSweep> sweeps = [sweep.ToSweep()];
            var swept = await RecordIndexer.SweepAsync(connection, transaction, sweeps, cancellationToken);
            var errors = await search.WriteAsync([], swept.DeletedEprints, cancellationToken);
            LogSwept(sweep.OperationId, swept, sweeps);
            return new LedgerEntry(Records: 0, Changed: 0, Invalid: 0, Deleted: swept.Deleted, SearchErrors: errors);
        }, cancellationToken);

    private void LogSwept(Guid operationId, SweepOutcome swept, IReadOnlyList<CollectionSweep> sweeps)
    {
        if (swept.Deleted > 0)
        {
            logger.LogInformation("Operation {OperationId}: {Count} records are gone from their PDS ({Sweeps}): marked deleted",
                operationId, swept.Deleted, string.Join(", ", sweeps.Select(s => $"{s.Collection} of {s.Did}")));
        }
    }

    /// <summary>
    /// Records each repo's revision and confirms its live records (last synced now), moving them to the PDS the repo now
    /// lives on — all but those the read's own batches just wrote. The confirmed records of repos found unchanged are the
    /// batch's records. A commit is recorded as verified
    /// only when the repo says so and every batch it names is in the ledger (committed: applied); a commit equal to the
    /// verified one recorded on the same PDS stays verified (a freshness scan confirming it by its listing).
    /// </summary>
    public async Task<RecordsIndexed> RepoSyncedAsync(RepoSynced synced, CancellationToken cancellationToken)
    {
        await WaitForBatchesAsync(synced, cancellationToken);
        return await RunAsync(synced.OperationId, synced.BatchId, async (connection, transaction) =>
        {
            var confirmed = await RecordReposAsync(connection, transaction, synced.OperationId, synced.Repos, cancellationToken);
            return new LedgerEntry(Records: confirmed, Changed: 0, Invalid: 0, Deleted: 0, SearchErrors: 0);
        }, cancellationToken);
    }

    /// <summary>
    /// Records repos' revisions and confirms their live records, in the caller's transaction (see <see cref="RepoSyncedAsync"/>);
    /// returns how many records of repos found unchanged it confirmed (they count as the batch's records).
    /// </summary>
    private static async Task<int> RecordReposAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid operationId, IReadOnlyList<SyncedRepo> repos, CancellationToken cancellationToken)
    {
        var unique = repos.GroupBy(r => r.Did, StringComparer.Ordinal).Select(g => g.Last()).ToList(); // one row per repo
        var batches = unique.SelectMany(r => (r.Batches ?? []).Select(b => (r.Did, Batch: b))).ToList();
        await using var command = new NpgsqlCommand("""
            WITH input AS (
                SELECT * FROM unnest(@dids, @pdses, @revs, @cids, @unchanged, @verified) AS i(did, pds_url, rev, commit_cid, unchanged, verified)),
            -- Each batch of each repo's read, and when it was applied (null: not in the ledger).
            batches AS (
                SELECT b.did, o.indexed_at FROM unnest(@batchDids, @batchIds) AS b(did, id)
                LEFT JOIN operation_batches o ON o.operation_id = @op AND o.batch_id = b.id),
            missing AS (SELECT DISTINCT did FROM batches WHERE indexed_at IS NULL),
            state AS (
                -- Verified: a signed commit read whose batches all landed, or a confirmation (nothing re-read) of the very
                -- commit recorded verified on the same PDS. Anything else — a listing, another commit — is not.
                INSERT INTO repo_sync_state AS s (did, pds_url, rev, commit_cid, operation_id, verified)
                SELECT i.did, i.pds_url, i.rev, i.commit_cid, @op,
                       i.commit_cid IS NOT NULL AND (
                           (i.verified AND i.did NOT IN (SELECT did FROM missing))
                           OR (i.unchanged AND EXISTS (SELECT 1 FROM repo_sync_state k
                               WHERE k.did = i.did AND k.verified AND k.commit_cid = i.commit_cid AND k.pds_url = i.pds_url)))
                FROM input i
                ON CONFLICT (did) DO UPDATE SET pds_url = EXCLUDED.pds_url, rev = EXCLUDED.rev, commit_cid = EXCLUDED.commit_cid,
                    operation_id = EXCLUDED.operation_id, synced_at = now(), verified = EXCLUDED.verified),
            -- When the first applied batch of each repo's read began (the database's clock): a row written or confirmed
            -- since, on the same PDS, is already confirmed by this read and is not written a second time.
            firsts AS (SELECT did, min(indexed_at) AS first_at FROM batches GROUP BY did HAVING min(indexed_at) IS NOT NULL),
            -- Driven by each repo's submissions (the did and collection index; OFFSET 0 keeps it so): joined the other
            -- way round, the planner read every live eprint of every repo for each message (seen with 580 eprints).
            eprints AS (
                UPDATE eprints_index e SET last_synced_at = now(), pds_url = s.pds_url
                FROM (SELECT r.uri, i.pds_url, f.first_at FROM input i
                      JOIN indexed_records r ON r.did = i.did AND r.collection = 'pub.chive.eprint.submission'
                      LEFT JOIN firsts f ON f.did = i.did OFFSET 0) s
                WHERE e.uri = s.uri AND e.deleted_at IS NULL
                  AND NOT (s.first_at IS NOT NULL AND e.last_synced_at >= s.first_at AND e.pds_url = s.pds_url)),
            confirmed AS (
                UPDATE indexed_records r SET last_synced_at = now(), pds_url = i.pds_url
                FROM input i LEFT JOIN firsts f ON f.did = i.did
                WHERE r.did = i.did AND r.deleted_at IS NULL
                  AND NOT (f.first_at IS NOT NULL AND r.last_synced_at >= f.first_at AND r.pds_url = i.pds_url)
                RETURNING i.unchanged)
            SELECT count(*) FILTER (WHERE unchanged)::int FROM confirmed
            """, connection, transaction);
        command.Parameters.AddWithValue("dids", unique.Select(r => r.Did).ToArray());
        command.Parameters.AddWithValue("pdses", unique.Select(r => r.PdsUrl).ToArray());
        command.Parameters.AddWithValue("revs", unique.Select(r => r.Rev).ToArray());
        command.Parameters.AddWithValue("cids", unique.Select(r => r.CommitCid).ToArray());
        command.Parameters.AddWithValue("unchanged", unique.Select(r => r.Unchanged).ToArray());
        command.Parameters.AddWithValue("verified", unique.Select(r => r.Verified).ToArray());
        command.Parameters.AddWithValue("batchDids", batches.Select(b => b.Did).ToArray());
        command.Parameters.AddWithValue("batchIds", batches.Select(b => b.Batch).ToArray());
        command.Parameters.AddWithValue("op", operationId);
        return (int)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>
    /// Waits (at most <see cref="LedgerOptions.RepoBatchesWait"/>) until every batch the verified repos of
    /// <paramref name="synced"/> name is in the ledger: they were published just before it, on other queues. Whatever
    /// has not landed by then leaves its repo unverified. A message already applied (a redelivery) does not wait.
    /// The ledger is asked again as soon as this process commits a batch — the last batch of a read usually lands here a
    /// few milliseconds later, and a backing-off poll alone overshot it by up to its pause: the last repo's revision of a
    /// scan, which the scan's end waits for, came about 100 ms after its last batch (<c>--breakdown</c>). The poll stays
    /// for batches applied by another replica.
    /// </summary>
    private async Task WaitForBatchesAsync(RepoSynced synced, CancellationToken cancellationToken)
    {
        var wanted = synced.Repos.Where(r => r.Verified).SelectMany(r => r.Batches ?? []).Distinct().ToArray();
        if (wanted.Length == 0)
        {
            return;
        }

        var started = time.GetTimestamp();
        await using var command = dataSource.CreateCommand("""
            SELECT EXISTS (SELECT 1 FROM operation_batches WHERE operation_id = @op AND batch_id = @self)
                OR (SELECT count(*) FROM operation_batches WHERE operation_id = @op AND batch_id = ANY(@ids)) = @wanted
            """);
        command.Parameters.AddWithValue("op", synced.OperationId);
        command.Parameters.AddWithValue("self", synced.BatchId);
        command.Parameters.AddWithValue("ids", wanted);
        command.Parameters.AddWithValue("wanted", (long)wanted.Length);
        // 20 ms, doubling to 500 ms: the last batch usually lands within a few tens of milliseconds.
        var pause = TimeSpan.FromMilliseconds(20);
        while (true)
        {
            // Taken before the ledger is read: a commit while it is read is not missed.
            var committed = Volatile.Read(ref _nextCommit).Task;
            if ((bool)(await command.ExecuteScalarAsync(cancellationToken))!)
            {
                return;
            }

            if (time.GetElapsedTime(started) >= ledger.Value.RepoBatchesWait)
            {
                logger.LogInformation(
                    "Operation {OperationId}: batches of repos synced in {BatchId} were not all applied within {Wait}: " +
                    "those repos are recorded unverified (read whole next time)",
                    synced.OperationId, synced.BatchId, ledger.Value.RepoBatchesWait);
                return;
            }

            using (var wake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                await Task.WhenAny(committed, Task.Delay(pause, time, wake.Token));
                await wake.CancelAsync(); // the pause's timer, when the commit came first
            }

            cancellationToken.ThrowIfCancellationRequested();
            pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.TicksPerSecond / 2));
        }
    }

    private static TaskCompletionSource NewCommitSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A repo gone for good: every live record of it marked deleted with the given source, its eprints out of search.</summary>
    public Task<RecordsIndexed> RemoveRepoAsync(RemoveRepo remove, CancellationToken cancellationToken) =>
        RunAsync(remove.OperationId, remove.BatchId, async (connection, transaction) =>
        {
            var outcome = await RecordIndexer.SweepAsync(
                connection, transaction, remove.Did, collection: null, presentRkeys: [], listedFrom: null, cancellationToken, remove.DeletionSource);
            // Its records are gone from the index while its last commit may come back (a takedown reversed, an account found
            // again): that commit no longer describes what we hold, so the next PDS scan must read the repo, not skip it.
            await using (var unverify = new NpgsqlCommand("UPDATE repo_sync_state SET verified = false WHERE did = @did AND verified", connection, transaction))
            {
                unverify.Parameters.AddWithValue("did", remove.Did);
                await unverify.ExecuteNonQueryAsync(cancellationToken);
            }

            var (deleted, eprints) = (outcome.Deleted, outcome.DeletedEprints);
            var errors = await search.WriteAsync([], eprints, cancellationToken);
            logger.LogInformation("Operation {OperationId}: {Did} is gone ({Source}): {Count} records marked deleted", remove.OperationId, remove.Did, remove.DeletionSource, deleted);
            return new LedgerEntry(Records: 0, Changed: 0, Invalid: 0, Deleted: deleted, SearchErrors: errors);
        }, cancellationToken);

    private async Task<RecordsIndexed> RunAsync(
        Guid operationId, Guid batchId, Func<NpgsqlConnection, NpgsqlTransaction, Task<LedgerEntry>> apply, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var claim = new NpgsqlCommand(
            "INSERT INTO operation_batches (operation_id, batch_id) VALUES (@op, @batch) ON CONFLICT DO NOTHING", connection, transaction);
        claim.Parameters.AddWithValue("op", operationId);
        claim.Parameters.AddWithValue("batch", batchId);
        RecordsIndexed totals;
        LedgerEntry? entry = null;
        long claimed = 0, applied = 0;
        if (await claim.ExecuteNonQueryAsync(cancellationToken) == 1)
        {
            claimed = Stopwatch.GetTimestamp();
            entry = await apply(connection, transaction);
            applied = Stopwatch.GetTimestamp();
            // The batch's counts go to its ledger row and onto the operation's running totals, last, so the totals row
            // is locked only for the moment before the commit.
            await using var record = new NpgsqlCommand("""
                WITH batch AS (
                    UPDATE operation_batches SET records = @records, changed = @changed, invalid = @invalid, deleted = @deleted,
                        search_errors = @errors, added = @added
                    WHERE operation_id = @op AND batch_id = @batch)
                INSERT INTO operation_totals AS t (operation_id, batches, records, changed, invalid, deleted, search_errors, added)
                VALUES (@op, 1, @records, @changed, @invalid, @deleted, @errors, @added)
                ON CONFLICT (operation_id) DO UPDATE SET
                    batches = t.batches + 1, records = t.records + @records, changed = t.changed + @changed, invalid = t.invalid + @invalid,
                    deleted = t.deleted + @deleted, search_errors = t.search_errors + @errors, added = t.added + @added, updated_at = now()
                RETURNING batches, records, changed, invalid, deleted, search_errors, added
                """, connection, transaction);
            record.Parameters.AddWithValue("op", operationId);
            record.Parameters.AddWithValue("batch", batchId);
            record.Parameters.AddWithValue("records", entry.Records);
            record.Parameters.AddWithValue("changed", entry.Changed);
            record.Parameters.AddWithValue("invalid", entry.Invalid);
            record.Parameters.AddWithValue("deleted", entry.Deleted);
            record.Parameters.AddWithValue("errors", entry.SearchErrors);
            record.Parameters.AddWithValue("added", entry.Added);
            totals = await ReadTotalsAsync(operationId, record, cancellationToken);
        }
        else
        {
            logger.LogInformation("Batch {BatchId} of operation {OperationId} was already indexed: nothing to do", batchId, operationId);
            await using var read = new NpgsqlCommand(
                "SELECT batches, records, changed, invalid, deleted, search_errors, added FROM operation_totals WHERE operation_id = @op", connection, transaction);
            read.Parameters.AddWithValue("op", operationId);
            totals = await ReadTotalsAsync(operationId, read, cancellationToken);
        }

        var recorded = Stopwatch.GetTimestamp();
        await transaction.CommitAsync(cancellationToken);
        if (entry is not null)
        {
            IndexingMetrics.Committed(entry);
            Interlocked.Exchange(ref _nextCommit, NewCommitSignal()).TrySetResult();
        }

        if (applied != 0)
        {
            // Where a batch's time goes (scripts/bench.sh pds-scan --breakdown reads these lines).
            logger.LogDebug("Batch timing {BatchId}: open and claim {Claim:F1} ms, apply {Apply:F1} ms, ledger and totals {Ledger:F1} ms, commit {Commit:F1} ms",
                batchId, Stopwatch.GetElapsedTime(started, claimed).TotalMilliseconds, Stopwatch.GetElapsedTime(claimed, applied).TotalMilliseconds,
                Stopwatch.GetElapsedTime(applied, recorded).TotalMilliseconds, Stopwatch.GetElapsedTime(recorded).TotalMilliseconds);
        }

        return totals;
    }

    private static async Task<RecordsIndexed> ReadTotalsAsync(Guid operationId, NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new RecordsIndexed(operationId, Batches: reader.GetInt64(0), Records: reader.GetInt64(1), Changed: reader.GetInt64(2),
                Invalid: reader.GetInt64(3), Deleted: reader.GetInt64(4), SearchErrors: reader.GetInt64(5), Added: reader.GetInt64(6))
            : RecordsIndexed.None(operationId);
    }

    internal sealed record LedgerEntry(int Records, int Changed, int Invalid, int Deleted, int SearchErrors, int Added = 0);
}
