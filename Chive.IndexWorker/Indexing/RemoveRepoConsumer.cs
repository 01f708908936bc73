using Chive.Contracts.Indexing;
using MassTransit;

namespace Chive.IndexWorker.Indexing;

/// <summary>Marks a gone repo's records deleted, removes its eprints from search, and tells the saga the new totals.</summary>
public sealed class RemoveRepoConsumer(IndexBatchProcessor processor) : IConsumer<RemoveRepo>
{
    public async Task Consume(ConsumeContext<RemoveRepo> context) =>
        await context.Publish(await processor.RemoveRepoAsync(context.Message, context.CancellationToken));
}

/// <summary>Retried like batches (the ledger makes it idempotent).</summary>
public sealed class RemoveRepoConsumerDefinition : ConsumerDefinition<RemoveRepoConsumer>
{
    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<RemoveRepoConsumer> consumerConfigurator, IRegistrationContext context) =>
        IndexingRetry.Configure(endpointConfigurator, context);
}
