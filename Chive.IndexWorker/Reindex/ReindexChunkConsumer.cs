using System.Globalization;
using Chive.Contracts.Operations;
using Chive.Contracts.Reindex;
using Chive.IndexWorker.Search;
using Chive.Messaging;
using MassTransit;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Chive.IndexWorker.Reindex;

/// <summary>
/// One unit of a full reindex: up to <see cref="ReindexOptions.PagesPerChunk"/> pages of live eprints in AT-URI order
/// (one query per page, the next page read while the current one is written), written to the new index with
/// <c>_bulk</c> — requests bounded in documents and bytes, a few in flight — then the next chunk from the last URI. After the last page:
/// replay the eprints written or deleted since the reindex began (the pipeline kept writing to the live index), refresh,
/// swap the alias in one call, delete the previous index, and replay once more through the alias to cover the
/// moments around the swap. A cancel (or a dropped chunk of a finished operation) deletes the new index; the alias and
/// the live index are never touched before the swap.
/// </summary>
public sealed class ReindexChunkConsumer(
    NpgsqlDataSource dataSource,
    SearchWriter search,
    SearchIndexes indexes,
    OperationGate gate,
    IOptions<ReindexOptions> options,
    TimeProvider time,
    ILogger<ReindexChunkConsumer> logger) : OperationWorkConsumer<ReindexChunk>(gate)
{
    /// <summary>When this unit last reported progress (0: not yet — its first report is never held back).</summary>
    private long _lastReport;

    protected override async Task DroppedAsync(ConsumeContext<ReindexChunk> context, string status)
    {
        var chunk = context.Message;
        if (await indexes.AliasTargetAsync(context.CancellationToken) == chunk.NewIndex)
        {
            // A late copy of a chunk of a reindex that completed: its index is the live one now. Keep it.
            logger.LogInformation("Reindex {OperationId} is {Status} and {Index} is live: dropping a late chunk", chunk.OperationId, status, chunk.NewIndex);
            return;
        }

        logger.LogInformation("Reindex {OperationId} is {Status}: deleting {Index}, the alias stays on {Previous}",
            chunk.OperationId, status, chunk.NewIndex, chunk.PreviousIndex);
        await indexes.DeleteAsync(chunk.NewIndex, context.CancellationToken);
    }

    protected override async Task ConsumeAsync(ConsumeContext<ReindexChunk> context, OperationUnit work)
    {
        var chunk = context.Message;
        // Which process took which unit, when there are replicas.
        logger.LogDebug("Reindex {OperationId}: the unit after {AfterUri} started in process {ProcessId}",
            chunk.OperationId, chunk.AfterUri ?? "(the start)", Environment.ProcessId);
        var progress = chunk;
        var finished = false;
        Task<List<IndexableEprintDocument>>? next = null;
        try
        {
            // Up to PagesPerChunk pages per unit of work, each page's successor read while the page is written.
            next = ReadAsync(chunk.AfterUri, chunk.BatchSize, work.Token);
            for (var pages = 1; ; pages++)
            {
                var watch = System.Diagnostics.Stopwatch.StartNew();
                var page = await next;
                var waited = watch.Elapsed;
                finished = page.Count < chunk.BatchSize;
                next = !finished && pages < options.Value.PagesPerChunk ? ReadAsync(page[^1].Uri, chunk.BatchSize, work.Token) : null;
                var errors = await WriteAsync(context, progress, page, work.Token);
                logger.LogDebug("Reindex {OperationId}: {Count} documents, waited {ReadMs:F0} ms for the read, written in {WriteMs:F0} ms",
                    chunk.OperationId, page.Count, waited.TotalMilliseconds, (watch.Elapsed - waited).TotalMilliseconds);
                progress = progress with
                {
                    AfterUri = page.Count > 0 ? page[^1].Uri : progress.AfterUri,
                    Indexed = progress.Indexed + page.Count - errors,
                    ItemErrors = progress.ItemErrors + errors,
                };
                if (next is null)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (work.IsCancelled)
        {
            if (next is not null)
            {
                await next.ContinueWith(_ => { }, TaskScheduler.Default); // observe the read in flight
            }
        }

        if (work.IsCancelled)
        {
            logger.LogInformation("Reindex {OperationId} cancelled: deleting {Index}", chunk.OperationId, chunk.NewIndex);
            await indexes.DeleteAsync(chunk.NewIndex, context.CancellationToken);
            ChainEnded(chunk.OperationId);
            return;
        }

        if (!await AdvanceAsync(context))
        {
            return;
        }

        if (!finished)
        {
            await context.Publish(progress with { Sequence = chunk.Sequence + 1 });
            return;
        }

        await FinishAsync(context, progress, work);
    }

    private async Task<List<IndexableEprintDocument>> ReadAsync(string? afterUri, int batchSize, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await EprintDocuments.PageAsync(connection, afterUri, batchSize, cancellationToken);
    }

    /// <summary>Writes one page in bulk requests of bounded size, a few at once; reports progress as they complete.</summary>
    private async Task<long> WriteAsync(ConsumeContext context, ReindexChunk chunk, List<IndexableEprintDocument> page, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var requests = new List<List<IndexableEprintDocument>>();
        var current = new List<IndexableEprintDocument>();
        long bytes = 0;
        foreach (var document in page)
        {
            var size = 512L + document.Title.Length + (document.Abstract?.Length ?? 0) + document.Authors.Sum(a => 64 + (a.Name?.Length ?? 0));
            if (current.Count > 0 && (current.Count >= settings.BulkDocuments || bytes + size > settings.BulkBytes))
            {
                requests.Add(current);
                current = [];
                bytes = 0;
            }

            current.Add(document);
            bytes += size;
        }

        if (current.Count > 0)
        {
            requests.Add(current);
        }

        long errors = 0, written = 0, reported = chunk.Indexed;
        var gate = new object();
        await Parallel.ForEachAsync(requests, new ParallelOptions { MaxDegreeOfParallelism = settings.BulkConcurrency, CancellationToken = cancellationToken },
            async (request, token) =>
            {
                var failed = await search.BulkAsync(SearchIndexes.BuildAlias(chunk.NewIndex), request, [], token);
                BackfillProgressed? progress = null;
                lock (gate)
                {
                    errors += failed;
                    written += request.Count - failed;
                    var indexed = chunk.Indexed + written;
                    if (indexed / settings.ProgressEvery > reported / settings.ProgressEvery
                        && (_lastReport == 0 || time.GetElapsedTime(_lastReport) >= settings.ProgressInterval))
                    {
                        // Another multiple of ProgressEvery documents passed (counted across chunks), and not too soon.
                        reported = indexed;
                        _lastReport = time.GetTimestamp();
                        progress = new BackfillProgressed(chunk.OperationId, (int)Math.Min(99, indexed * 100 / Math.Max(1, chunk.Total)), indexed);
                    }
                }

                if (progress is not null)
                {
                    await context.Publish(progress, token);
                }
            });
        return errors;
    }

    private async Task FinishAsync(ConsumeContext context, ReindexChunk chunk, OperationUnit work)
    {
        var cancellationToken = context.CancellationToken;
        var margin = options.Value.ReplayMargin;
        var replayStarted = time.GetUtcNow();
        var replayed = 0;
        var live = await indexes.AliasTargetAsync(cancellationToken);
        if (live != chunk.NewIndex)
        {
            // (A chunk run again after a crash finds the swap already made; it only finishes what follows it.)
            replayed = await ReplayAsync(SearchIndexes.BuildAlias(chunk.NewIndex), chunk.StartedAt - margin, cancellationToken);
            if (work.IsCancelled)
            {
                await indexes.DeleteAsync(chunk.NewIndex, cancellationToken);
                return;
            }

            await indexes.RefreshAsync(chunk.NewIndex, cancellationToken);
            await indexes.SwapAliasAsync(live, chunk.NewIndex, cancellationToken);
        }

        if (chunk.PreviousIndex is not null && chunk.PreviousIndex != chunk.NewIndex)
        {
            await indexes.DeleteAsync(chunk.PreviousIndex, cancellationToken);
        }

        replayed += await ReplayAsync(SearchWriter.Alias, replayStarted - margin, cancellationToken);
        logger.LogInformation("Reindex {OperationId} done: {Indexed} documents in {Index}, {Errors} item errors, {Replayed} replayed changes",
            chunk.OperationId, chunk.Indexed, chunk.NewIndex, chunk.ItemErrors, replayed);
        ChainEnded(chunk.OperationId);
        await context.Publish(new BackfillWorkCompleted(chunk.OperationId, chunk.Indexed, new Dictionary<string, string>
        {
            ["index"] = chunk.NewIndex,
            ["previousIndex"] = chunk.PreviousIndex ?? "",
            ["itemErrors"] = chunk.ItemErrors.ToString(CultureInfo.InvariantCulture),
            ["replayedChanges"] = replayed.ToString(CultureInfo.InvariantCulture),
        }));
    }

    /// <summary>Applies through <paramref name="alias"/> every eprint written or deleted since <paramref name="since"/>.</summary>
    private async Task<int> ReplayAsync(string alias, DateTimeOffset since, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var (live, deleted) = await EprintDocuments.ChangedSinceAsync(connection, since, cancellationToken);
        await search.BulkAsync(alias, live, deleted, cancellationToken);
        return live.Count + deleted.Count;
    }
}

public sealed class ReindexChunkConsumerDefinition : ConsumerDefinition<ReindexChunkConsumer>
{
    public ReindexChunkConsumerDefinition() => ConcurrentMessageLimit = 2;

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<ReindexChunkConsumer> consumerConfigurator, IRegistrationContext context)
    {
        // A page is idempotent (index by id), so it is simply tried again; a few seconds, then the operation fails.
        endpointConfigurator.UseMessageRetry(r =>
        {
            r.Intervals(500, 2000, 5000);
            r.Handle<NpgsqlException>(e => e.IsTransient || e is not PostgresException);
            r.Handle<SearchUnavailableException>();
            r.Ignore<SearchAliasMissingException>(); // the index being built is gone: nothing to retry into
            r.Handle<Elastic.Transport.TransportException>();
            r.Handle<TimeoutException>();
        });
        endpointConfigurator.UseInMemoryOutbox(context);
    }
}
