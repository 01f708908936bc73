using Chive.Contracts.Indexing;
using MassTransit;

namespace Chive.IndexWorker.Indexing;

/// <summary>Indexes a batch of records and tells the saga the operation's new totals.</summary>
public sealed class IndexRecordsConsumer(IndexBatchProcessor processor) : IConsumer<IndexRecords>
{
    public async Task Consume(ConsumeContext<IndexRecords> context) =>
        await context.Publish(await processor.IndexAsync(context.Message, context.CancellationToken));
}

/// <summary>
/// Batches are idempotent (the ledger), so a failed one is simply retried: database and Elasticsearch outages get
/// a minute of retries with growing intervals before the message faults (and the fault fails the operation).
/// A batch that cannot succeed (a bug) faults at once rather than after a minute.
/// </summary>
public sealed class IndexRecordsConsumerDefinition : ConsumerDefinition<IndexRecordsConsumer>
{
    public IndexRecordsConsumerDefinition() => ConcurrentMessageLimit = 4;

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<IndexRecordsConsumer> consumerConfigurator, IRegistrationContext context) =>
        IndexingRetry.Configure(endpointConfigurator, context);
}
