namespace Chive.Contracts.Operations;

/// <summary>A worker asks, before a unit of work, whether the operation still runs (answered with <see cref="BackfillState"/>).</summary>
public sealed record GetBackfillState(Guid OperationId);
