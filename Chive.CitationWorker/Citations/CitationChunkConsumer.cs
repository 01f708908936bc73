using Chive.Contracts.Citations;
using Chive.Contracts.Operations;
using Chive.Messaging;
using MassTransit;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Chive.CitationWorker.Citations;

/// <summary>
/// One unit of a citation extraction: the next page of live eprints (AT-URI order), <c>Citations:EprintConcurrency</c>
/// at a time, each stored in its own transaction; progress (and the live counts) every <c>Citations:ProgressEvery</c>
/// eprints; then the next unit, or the operation's completion with its counts. A unit run again after a crash does
/// again only what it had not stored: an eprint this operation already extracted reports what it found then.
/// A cancel stops the unit between eprints (one in flight finishes or rolls back as a whole).
/// </summary>
public sealed class CitationChunkConsumer(
    EprintSource eprints, CitationExtractor extractor, IOptions<CitationOptions> options, OperationGate gate, ILogger<CitationChunkConsumer> logger)
    : OperationWorkConsumer<CitationChunk>(gate)
{
    protected override async Task ConsumeAsync(ConsumeContext<CitationChunk> context, OperationUnit work)
    {
        var chunk = context.Message;
        var settings = options.Value;
        var page = await eprints.PageAsync(chunk.Uri, chunk.AfterUri, chunk.BatchSize, work.Token);
        var totals = chunk.Totals;
        var reported = totals.EprintsProcessed;
        var progressLock = new object();
        try
        {
            await Parallel.ForEachAsync(page, new ParallelOptions { MaxDegreeOfParallelism = settings.EprintConcurrency, CancellationToken = work.Token },
                async (eprint, token) =>
                {
                    var one = await extractor.ExtractAsync(eprint, chunk.OperationId, chunk.Force, token);
                    BackfillProgressed? progress = null;
                    lock (progressLock)
                    {
                        totals = totals.Add(one);
                        if (totals.EprintsProcessed / settings.ProgressEvery > reported / settings.ProgressEvery)
                        {
                            reported = totals.EprintsProcessed;
                            progress = new BackfillProgressed(chunk.OperationId, Percent(totals.EprintsProcessed, chunk.Total), totals.EprintsProcessed, totals.ToMetadata());
                        }
                    }

                    if (progress is not null)
                    {
                        await context.Publish(progress, token);
                    }
                });
        }
        catch (OperationCanceledException) when (work.IsCancelled)
        {
            logger.LogInformation("Citation extraction {OperationId} cancelled after {Processed} eprints", chunk.OperationId, totals.EprintsProcessed);
            ChainEnded(chunk.OperationId);
            return;
        }

        if (!await AdvanceAsync(context))
        {
            return;
        }

        if (page.Count == chunk.BatchSize && chunk.Uri is null)
        {
            await context.Publish(new BackfillProgressed(chunk.OperationId, Percent(totals.EprintsProcessed, chunk.Total), totals.EprintsProcessed, totals.ToMetadata()));
            await context.Publish(chunk with { AfterUri = page[^1].Uri, Totals = totals, Sequence = chunk.Sequence + 1 });
            return;
        }

        logger.LogInformation("Citation extraction {OperationId} done: {Processed} eprints, {Citations} citations ({Matched} ours), {Skipped} unchanged, "
            + "{Missing} without a PDF, {GrobidFailures} GROBID failures", chunk.OperationId, totals.EprintsProcessed, totals.CitationsExtracted,
            totals.CitationsMatched, totals.SkippedUnchanged, totals.PdfMissing, totals.GrobidFailures);
        ChainEnded(chunk.OperationId);
        await context.Publish(new BackfillWorkCompleted(chunk.OperationId, totals.EprintsProcessed, totals.ToMetadata()));
    }

    private static int Percent(long done, long total) => (int)Math.Min(99, done * 100 / Math.Max(1, total));
}

/// <summary>
/// A unit that fails (the database gone) is tried again — every eprint it stored reports its stored counts — then fails
/// the operation. Upstream failures never get here: they are counted per eprint.
/// </summary>
public sealed class CitationChunkConsumerDefinition : ConsumerDefinition<CitationChunkConsumer>
{
    public CitationChunkConsumerDefinition() => ConcurrentMessageLimit = 2;

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<CitationChunkConsumer> consumerConfigurator, IRegistrationContext context) =>
        endpointConfigurator.UseMessageRetry(r =>
        {
            r.Intervals(1000, 5000, 15000);
            r.Handle<NpgsqlException>(e => e.IsTransient || e is not PostgresException);
            r.Handle<TimeoutException>();
        });
}
