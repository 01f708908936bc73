namespace Chive.Contracts.Operations;

/// <summary>
/// A worker asks, before a unit of work, whether the operation still runs (request; answered with
/// <see cref="OperationStatusReply"/>).
/// </summary>
public sealed record GetOperationStatus(Guid OperationId);
