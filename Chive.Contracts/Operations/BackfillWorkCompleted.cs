namespace Chive.Contracts.Operations;

/// <summary>
/// A worker's fact: all the work of the operation is done. <paramref name="Details"/> (e.g. invalid records skipped,
/// rows removed) is added to the operation's metadata.
/// </summary>
public sealed record BackfillWorkCompleted(Guid OperationId, long RecordsProcessed, IReadOnlyDictionary<string, string>? Details = null);
