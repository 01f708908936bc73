using System.Collections.Concurrent;
using Chive.Contracts.Operations;
using MassTransit;

namespace Chive.Messaging;

/// <summary>
/// Per worker instance: a <see cref="CancellationToken"/> per operation, tripped when the operation's
/// <see cref="BackfillCancelled"/> event arrives on this instance's own queue. The unit of work in flight checks it
/// between its request and its write; a cancelled operation's later chunks are dropped.
/// </summary>
public sealed class OperationCancellation
{
    private readonly ConcurrentDictionary<Guid, CancellationTokenSource> _sources = new();

    public CancellationToken TokenFor(Guid operationId) => _sources.GetOrAdd(operationId, _ => new CancellationTokenSource()).Token;

    public void Cancel(Guid operationId) => _sources.GetOrAdd(operationId, _ => new CancellationTokenSource()).Cancel();

    /// <summary>Forgets a finished operation's token (its chain has ended).</summary>
    public void Forget(Guid operationId)
    {
        if (_sources.TryRemove(operationId, out var source))
        {
            source.Dispose();
        }
    }
}

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
