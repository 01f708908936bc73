using Chive.Contracts.Operations;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace Chive.Messaging;

/// <summary>
/// The opening every chunk of an operation's work shares, written once. It asks whether the operation still runs; if
/// it does not (cancelled, failed, completed, expired) the message is dropped — after <see cref="DroppedAsync"/> has
/// given back whatever the chain held — and the operation's token is forgotten. Otherwise the unit runs with
/// <see cref="OperationUnit"/> tokens that trip on the operation's cancel.
/// </summary>
public abstract class OperationWorkConsumer<T>(OperationGate gate) : IConsumer<T>
    where T : class, IOperationWork
{
    public async Task Consume(ConsumeContext<T> context)
    {
        var operationId = context.Message.OperationId;
        var status = await gate.StatusAsync(operationId, context.CancellationToken);
        if (status != BackfillStatus.Running)
        {
            gate.Logger.LogInformation("Dropping {MessageType} of operation {OperationId}: it is {Status}", typeof(T).Name, operationId, status);
            await DroppedAsync(context, status);
            gate.Cancellation.Forget(operationId);
            return;
        }

        var cancelled = gate.Cancellation.TokenFor(operationId);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancelled, context.CancellationToken);
        await ConsumeAsync(context, new OperationUnit(cancelled, linked.Token));
    }

    /// <summary>The unit of work, for an operation that was running when it began.</summary>
    protected abstract Task ConsumeAsync(ConsumeContext<T> context, OperationUnit unit);

    /// <summary>A message of an operation that no longer runs: give back what the chain holds (claims, half-built indexes).</summary>
    protected virtual Task DroppedAsync(ConsumeContext<T> context, string status) => Task.CompletedTask;

    /// <summary>The chain of this operation ended on this instance (finished or cancelled): its token is no longer needed.</summary>
    protected void ChainEnded(Guid operationId) => gate.Cancellation.Forget(operationId);
}
