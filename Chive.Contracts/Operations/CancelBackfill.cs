namespace Chive.Contracts.Operations;

/// <summary>The API asks the saga to cancel (request; answered with <see cref="CancelBackfillResult"/>).</summary>
public sealed record CancelBackfill(Guid OperationId, string CancelledBy);
