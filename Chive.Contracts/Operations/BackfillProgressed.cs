namespace Chive.Contracts.Operations;

/// <summary>
/// A worker's fact: this much is done. Values lower than what the saga has are ignored. <paramref name="Details"/>, when
/// given, replaces the same keys of the operation's metadata (live counts), unless the report is older than the last.
/// </summary>
public sealed record BackfillProgressed(Guid OperationId, int Progress, long RecordsProcessed, IReadOnlyDictionary<string, string>? Details = null);
