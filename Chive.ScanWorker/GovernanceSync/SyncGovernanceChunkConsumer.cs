using Chive.AtProto.Identifiers;
using Chive.AtProto.Xrpc;
using Chive.Contracts.GovernanceSync;
using Chive.Contracts.Operations;
using Chive.Messaging;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Chive.ScanWorker.GovernanceSync;

/// <summary>
/// One page of a governance sync (once <see cref="OperationWorkConsumer{T}"/> has found the operation running): read one listRecords page of the governance
/// repo, upsert its valid records, report progress, then send the next chunk — the next page, the first page of
/// edges after the nodes, or, after the last page of edges, remove what the repo no longer has and report completion.
/// A cancel trips the token: the request in flight ends, and nothing is written or sent after it.
/// </summary>
public sealed class SyncGovernanceChunkConsumer(
    XrpcClient xrpc,
    GovernanceGraphStore store,
    OperationGate gate,
    IOptions<GovernanceOptions> options,
    ILogger<SyncGovernanceChunkConsumer> logger) : OperationWorkConsumer<SyncGovernanceChunk>(gate)
{
    protected override async Task ConsumeAsync(ConsumeContext<SyncGovernanceChunk> context, OperationUnit work)
    {
        var chunk = context.Message;
        ListRecordsPage page;
        try
        {
            page = await xrpc.ListRecordsPageAsync(
                options.Value.PdsUrl, Did.Parse(options.Value.Did), Nsid.Parse(chunk.Collection), chunk.Cursor, options.Value.PageSize, work.Token);
        }
        catch (OperationCanceledException) when (work.IsCancelled)
        {
            logger.LogInformation("Governance sync {OperationId} cancelled during a request", chunk.OperationId);
            return;
        }

        if (work.IsCancelled)
        {
            return; // the request finished after the cancel: write nothing
        }

        var valid = page.Records.Where(r => GovernanceGraphStore.IsValid(chunk.Collection, r.Value)).ToList();
        var written = chunk.Written + await store.UpsertAsync(chunk.Collection, valid, chunk.OperationId);
        var invalid = chunk.Invalid + page.InvalidEntries + page.ForeignEntries + (page.Records.Count - valid.Count);
        var partial = chunk.Partial || !page.IsClean;
        if (invalid > chunk.Invalid)
        {
            logger.LogWarning("Governance sync {OperationId}: {Invalid} invalid {Collection} records skipped so far", chunk.OperationId, invalid, chunk.Collection);
        }

        if (work.IsCancelled)
        {
            return;
        }

        var trail = chunk.Trail ?? CursorTrail.Start;
        var cycle = false;
        if (page.Cursor is not null && page.Entries > 0)
        {
            trail = trail.Next(page.Cursor, out cycle);
        }

        if (cycle || chunk.Sequence + 1 >= options.Value.MaxPages)
        {
            var why = cycle ? $"the {chunk.Collection} listing's cursors came round again (a cycle)" : $"more than {options.Value.MaxPages} pages (Governance:MaxPages)";
            logger.LogWarning("Governance sync {OperationId} stopped: {Reason}; nothing is removed", chunk.OperationId, why);
            if (await AdvanceAsync(context))
            {
                await context.Publish(new BackfillWorkFailed(chunk.OperationId, $"the governance repo's listing does not end: {why}; {written} records were written, nothing was removed"));
            }

            return;
        }

        if (!await AdvanceAsync(context))
        {
            return;
        }

        var next = chunk with { Sequence = chunk.Sequence + 1, Written = written, Invalid = invalid, Partial = partial };
        if (page.Cursor is not null && page.Entries > 0)
        {
            await context.Publish(new BackfillProgressed(chunk.OperationId, chunk.Collection == GovernanceCollections.Node ? 25 : 75, written));
            await context.Publish(next with { Cursor = page.Cursor, Trail = trail });
        }
        else if (chunk.Collection == GovernanceCollections.Node)
        {
            await context.Publish(new BackfillProgressed(chunk.OperationId, 50, written));
            await context.Publish(next with { Collection = GovernanceCollections.Edge, Cursor = null, Trail = CursorTrail.Start });
        }
        else
        {
            await FinishAsync(context, next);
        }
    }

    /// <summary>
    /// After the last page of edges: remove what the repo no longer has — unless the listing was not clean (entries
    /// that could not be attributed), or it would remove more than <see cref="GovernanceOptions.MaxRemovedShare"/> of the
    /// graph and the trigger did not say <c>force</c>: then nothing is removed and the operation fails, saying why.
    /// An empty but successful listing is exactly that case.
    /// </summary>
    private async Task FinishAsync(ConsumeContext context, SyncGovernanceChunk chunk)
    {
        var (stale, total) = await store.CountStaleAsync(chunk.OperationId);
        string Count(long n) => n.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (chunk.Partial && stale > 0)
        {
            await context.Publish(new BackfillWorkFailed(chunk.OperationId,
                $"the governance repo's listing had entries that could not be read, so the {stale} graph records it did not list were not removed; {chunk.Written} records were written"));
            return;
        }

        if (stale > 0 && !chunk.Force && stale > total * options.Value.MaxRemovedShare)
        {
            await context.Publish(new BackfillWorkFailed(chunk.OperationId,
                $"the governance repo's listing would remove {stale} of {total} graph records (more than {options.Value.MaxRemovedShare:P0}); nothing was removed. " +
                "If the repo really lost them, trigger governance sync with {\"force\": true}"));
            return;
        }

        var removed = await store.SweepAsync(chunk.OperationId);
        logger.LogInformation(
            "Governance sync {OperationId} done: {Written} records written, {Invalid} invalid skipped, {Removed} removed",
            chunk.OperationId, chunk.Written, chunk.Invalid, removed);
        ChainEnded(chunk.OperationId);
        await context.Publish(new BackfillWorkCompleted(chunk.OperationId, chunk.Written, new Dictionary<string, string>
        {
            ["invalidRecords"] = Count(chunk.Invalid),
            ["removedRecords"] = Count(removed),
        }));
    }
}

/// <summary>
/// Retries transient failures (PDS, database) a few times before the message faults — and the fault fails the
/// operation. Publishes leave only when the chunk succeeded (in-memory outbox), so a retried chunk never forks the chain.
/// </summary>
public sealed class SyncGovernanceChunkConsumerDefinition : ConsumerDefinition<SyncGovernanceChunkConsumer>
{
    public SyncGovernanceChunkConsumerDefinition() => ConcurrentMessageLimit = 4;

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<SyncGovernanceChunkConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        endpointConfigurator.UseMessageRetry(r =>
        {
            r.Intervals(500, 2000, 5000);
            r.Ignore<InvalidIdentifierException>();
        });
        endpointConfigurator.UseInMemoryOutbox(context);
    }
}
