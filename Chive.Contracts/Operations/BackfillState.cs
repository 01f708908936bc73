namespace Chive.Contracts.Operations;

/// <summary>The operation's status (one of <see cref="BackfillStatus"/>, or "notFound").</summary>
public sealed record BackfillState(Guid OperationId, string Status);
