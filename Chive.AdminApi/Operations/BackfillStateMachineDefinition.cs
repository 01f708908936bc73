using MassTransit;
using StackExchange.Redis;

namespace Chive.AdminApi.Operations;

/// <summary>
/// Endpoint policy of the operation saga: messages of one operation are handled one at a time (partitioned by id);
/// an update overtaken by another replica (<see cref="ConcurrencyException"/>) or a Redis hiccup is retried on fresh
/// state; publishes and responses leave only after the new state is stored (in-memory outbox), so a worker never
/// hears of a cancellation that was not recorded.
/// </summary>
public sealed class BackfillStateMachineDefinition : SagaDefinition<BackfillOperation>
{
    public BackfillStateMachineDefinition()
    {
        Endpoint(e => e.Name = "backfill-operations");
        ConcurrentMessageLimit = 32;
    }

    protected override void ConfigureSaga(
        IReceiveEndpointConfigurator endpointConfigurator,
        ISagaConfigurator<BackfillOperation> sagaConfigurator,
        IRegistrationContext context)
    {
        endpointConfigurator.UseMessageRetry(r =>
        {
            r.Intervals(20, 50, 100, 200, 500, 1000, 2000);
            r.Handle<ConcurrencyException>();
            r.Handle<RedisException>();
        });
        endpointConfigurator.UseInMemoryOutbox(context);

        var partition = endpointConfigurator.CreatePartitioner(ConcurrentMessageLimit ?? 32);
        sagaConfigurator.Message<Contracts.Operations.BackfillRequested>(m => m.UsePartitioner(partition, c => c.Message.OperationId));
        sagaConfigurator.Message<Contracts.Operations.BackfillProgressed>(m => m.UsePartitioner(partition, c => c.Message.OperationId));
        sagaConfigurator.Message<Contracts.Operations.BackfillWorkCompleted>(m => m.UsePartitioner(partition, c => c.Message.OperationId));
        sagaConfigurator.Message<Contracts.Operations.BackfillWorkFailed>(m => m.UsePartitioner(partition, c => c.Message.OperationId));
        sagaConfigurator.Message<Contracts.Operations.CancelBackfill>(m => m.UsePartitioner(partition, c => c.Message.OperationId));
        sagaConfigurator.Message<Contracts.PdsScan.ScanLaneProgressed>(m => m.UsePartitioner(partition, c => c.Message.OperationId));
        sagaConfigurator.Message<Contracts.Indexing.RecordsIndexed>(m => m.UsePartitioner(partition, c => c.Message.OperationId));
        sagaConfigurator.Message<Contracts.Operations.WatchOperation>(m => m.UsePartitioner(partition, c => c.Message.OperationId));
    }
}
