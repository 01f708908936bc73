using Chive.Contracts.Operations;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace Chive.Messaging;

/// <summary>
/// The opening every unit of an operation's work shares, written once. It asks whether the operation still runs; if
/// it does not (cancelled, failed, completed, expired) the message is dropped — after <see cref="DroppedAsync"/> has
/// given back whatever the chain held — and the operation's token is forgotten. A unit of a chain
/// (<see cref="IChainedWork"/>) whose chain has already moved past it is a duplicate and is dropped without giving
/// anything back (the live chain holds it). Otherwise the unit runs with <see cref="OperationUnit"/> tokens that trip
/// on the operation's cancel, and calls <see cref="AdvanceAsync"/> just before it sends its successor.
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

        if (context.Message is IChainedWork chained && !await gate.Chains.MayRunAsync(chained, MessageId(context), context.CancellationToken))
        {
            gate.Logger.LogInformation("Dropping a duplicate of {MessageType} {Chain}#{Position} of operation {OperationId}: its chain has moved on",
                typeof(T).Name, chained.Chain, chained.Position, operationId);
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

    /// <summary>
    /// Moves this unit's chain on, just before the unit sends its successor (or its operation's last fact). False: a copy
    /// of this unit got there first, and this one must send nothing further. Always true for work outside a chain.
    /// </summary>
    protected async Task<bool> AdvanceAsync(ConsumeContext<T> context)
    {
        if (context.Message is not IChainedWork chained || await gate.Chains.AdvanceAsync(chained, MessageId(context), context.CancellationToken))
        {
            return true;
        }

        gate.Logger.LogInformation("{MessageType} {Chain}#{Position} of operation {OperationId}: a copy of it moved the chain on first; this one stops",
            typeof(T).Name, chained.Chain, chained.Position, chained.OperationId);
        return false;
    }

    /// <summary>A delivery's identity: the message id, which a redelivery keeps.</summary>
    private static Guid MessageId(ConsumeContext context) => context.MessageId ?? Guid.Empty;

    /// <summary>The chain of this operation ended on this instance (finished or cancelled): its token is no longer needed.</summary>
    protected void ChainEnded(Guid operationId) => gate.Cancellation.Forget(operationId);
}
