namespace Chive.Contracts.Operations;

/// <summary>
/// Published when an operation is cancelled. Every worker instance receives it on its own instance queue and trips
/// the cancellation token of that operation's unit in flight.
/// </summary>
public sealed record BackfillCancelled(Guid OperationId, string Type);
