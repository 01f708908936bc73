using Chive.Contracts.Operations;
using MassTransit;

namespace Chive.Messaging;

/// <summary>Receives cancellations on a temporary queue of this instance (every instance gets every cancellation).</summary>
public sealed class BackfillCancelledConsumer(OperationCancellation cancellation) : IConsumer<BackfillCancelled>
{
    public Task Consume(ConsumeContext<BackfillCancelled> context)
    {
        cancellation.Cancel(context.Message.OperationId);
        return Task.CompletedTask;
    }
}

public sealed class BackfillCancelledConsumerDefinition : ConsumerDefinition<BackfillCancelledConsumer>
{
    public BackfillCancelledConsumerDefinition()
    {
        // One auto-deleted queue per running instance: a cancellation must reach every replica, not one of them.
        Endpoint(e =>
        {
            e.Temporary = true;
            e.InstanceId = NewId.NextGuid().ToString("N")[..12];
        });
    }
}
