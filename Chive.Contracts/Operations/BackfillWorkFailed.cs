namespace Chive.Contracts.Operations;

/// <summary>A worker's fact: the operation cannot go on.</summary>
public sealed record BackfillWorkFailed(Guid OperationId, string Error);
