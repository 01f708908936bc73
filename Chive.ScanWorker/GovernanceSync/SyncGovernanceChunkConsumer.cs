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
        var invalid = chunk.Invalid + page.InvalidEntries + (page.Records.Count - valid.Count);
        if (invalid > chunk.Invalid)
        {
            logger.LogWarning("Governance sync {OperationId}: {Invalid} invalid {Collection} records skipped so far", chunk.OperationId, invalid, chunk.Collection);
        }

        if (work.IsCancelled)
        {
            return;
        }

        if (page.Cursor is not null)
        {
            await context.Publish(new BackfillProgressed(chunk.OperationId, chunk.Collection == GovernanceCollections.Node ? 25 : 75, written));
            await context.Publish(chunk with { Cursor = page.Cursor, Written = written, Invalid = invalid });
        }
        else if (chunk.Collection == GovernanceCollections.Node)
        {
            await context.Publish(new BackfillProgressed(chunk.OperationId, 50, written));
            await context.Publish(new SyncGovernanceChunk(chunk.OperationId, GovernanceCollections.Edge, null, written, invalid));
        }
        else
        {
            var removed = await store.SweepAsync(chunk.OperationId);
            logger.LogInformation(
                "Governance sync {OperationId} done: {Written} records written, {Invalid} invalid skipped, {Removed} removed",
                chunk.OperationId, written, invalid, removed);
            ChainEnded(chunk.OperationId);
            await context.Publish(new BackfillWorkCompleted(chunk.OperationId, written, new Dictionary<string, string>
            {
                ["invalidRecords"] = invalid.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["removedRecords"] = removed.ToString(System.Globalization.CultureInfo.InvariantCulture),
            }));
        }
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
