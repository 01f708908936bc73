namespace Chive.Contracts.Operations;

/// <summary>A worker's fact: this much is done. Values lower than what the saga has are ignored.</summary>
public sealed record BackfillProgressed(Guid OperationId, int Progress, long RecordsProcessed);
