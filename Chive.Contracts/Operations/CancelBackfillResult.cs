namespace Chive.Contracts.Operations;

/// <summary><paramref name="Success"/> is true when this request moved the operation from running to cancelled.</summary>
public sealed record CancelBackfillResult(Guid OperationId, bool Success, string Status);
