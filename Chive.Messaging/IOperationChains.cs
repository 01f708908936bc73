using Chive.Contracts.Operations;

namespace Chive.Messaging;

/// <summary>Where each chain of an operation's units stands (<see cref="OperationChains"/> keeps it in PostgreSQL).</summary>
public interface IOperationChains
{
    /// <summary>May this delivery of the unit at <paramref name="work"/>'s position run?</summary>
    Task<bool> MayRunAsync(IChainedWork work, Guid messageId, CancellationToken cancellationToken);

    /// <summary>Moves the chain past <paramref name="work"/>'s position for this delivery; false when another delivery already did.</summary>
    Task<bool> AdvanceAsync(IChainedWork work, Guid messageId, CancellationToken cancellationToken);
}
