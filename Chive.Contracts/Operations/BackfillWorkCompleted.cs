namespace Chive.Contracts.Operations;

/// <summary>A worker's fact: all the work of the operation is done.</summary>
public sealed record BackfillWorkCompleted(Guid OperationId, long RecordsProcessed);
