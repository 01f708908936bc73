using Chive.Contracts.Indexing;
using MassTransit;

namespace Chive.IndexWorker.Indexing;

/// <summary>Records repos' revisions, confirms their records, and tells the saga the operation's new totals.</summary>
public sealed class RepoSyncedConsumer(IndexBatchProcessor processor) : IConsumer<RepoSynced>
{
    public async Task Consume(ConsumeContext<RepoSynced> context) =>
        await context.Publish(await processor.RepoSyncedAsync(context.Message, context.CancellationToken));
}

/// <summary>Retried like batches (the ledger makes it idempotent).</summary>
public sealed class RepoSyncedConsumerDefinition : ConsumerDefinition<RepoSyncedConsumer>
{
    public RepoSyncedConsumerDefinition() => ConcurrentMessageLimit = 4;

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<RepoSyncedConsumer> consumerConfigurator, IRegistrationContext context) =>
        IndexingRetry.Configure(endpointConfigurator, context);
}
