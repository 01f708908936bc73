namespace Chive.Contracts.Operations;

/// <summary>
/// The answer to <see cref="GetOperationStatus"/>: one of <see cref="BackfillStatus.All"/>, or
/// <see cref="BackfillStatus.NotFound"/> for an operation that expired or never was.
/// </summary>
public sealed record OperationStatusReply(Guid OperationId, string Status);
