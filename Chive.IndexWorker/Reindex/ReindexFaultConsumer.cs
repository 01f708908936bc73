using Chive.Contracts.Reindex;
using MassTransit;

namespace Chive.IndexWorker.Reindex;

/// <summary>
/// A reindex chunk that exhausted its retries (Elasticsearch gone, the database gone): the operation fails (the saga
/// hears the same fault) and the half-built index is deleted — retried for a few minutes, since Elasticsearch may be
/// what is gone. The alias and the live index are left as they were.
/// </summary>
public sealed class ReindexFaultConsumer(SearchIndexes indexes, ILogger<ReindexFaultConsumer> logger) : IConsumer<Fault<ReindexChunk>>
{
    public async Task Consume(ConsumeContext<Fault<ReindexChunk>> context)
    {
        var chunk = context.Message.Message;
        if (await indexes.AliasTargetAsync(context.CancellationToken) == chunk.NewIndex)
        {
            return; // it failed after the swap: the new index is the live one
        }

        logger.LogWarning("Reindex {OperationId} failed: deleting {Index}, the alias stays on {Previous}", chunk.OperationId, chunk.NewIndex, chunk.PreviousIndex);
        await indexes.DeleteAsync(chunk.NewIndex, context.CancellationToken);
    }
}

public sealed class ReindexFaultConsumerDefinition : ConsumerDefinition<ReindexFaultConsumer>
{
    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<ReindexFaultConsumer> consumerConfigurator, IRegistrationContext context) =>
        endpointConfigurator.UseMessageRetry(r => r.Intervals(2000, 5000, 10000, 30000, 60000, 120000));
}
