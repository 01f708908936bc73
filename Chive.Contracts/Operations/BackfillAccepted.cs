namespace Chive.Contracts.Operations;

/// <summary>The saga has recorded the operation as running and sent its first unit of work.</summary>
public sealed record BackfillAccepted(Guid OperationId);
