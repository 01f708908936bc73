using Chive.Contracts.Indexing;
using MassTransit;

namespace Chive.IndexWorker.Indexing;

/// <summary>Marks deleted what a complete listing no longer has, and tells the saga the operation's new totals.</summary>
public sealed class SweepCollectionConsumer(IndexBatchProcessor processor) : IConsumer<SweepCollection>
{
    public async Task Consume(ConsumeContext<SweepCollection> context) =>
        await context.Publish(await processor.SweepAsync(context.Message, context.CancellationToken));
}

/// <summary>Sweeps are idempotent like batches and retried the same way.</summary>
public sealed class SweepCollectionConsumerDefinition : ConsumerDefinition<SweepCollectionConsumer>
{
    public SweepCollectionConsumerDefinition() => ConcurrentMessageLimit = 2;

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<SweepCollectionConsumer> consumerConfigurator, IRegistrationContext context) =>
        IndexingRetry.Configure(endpointConfigurator, context);
}
