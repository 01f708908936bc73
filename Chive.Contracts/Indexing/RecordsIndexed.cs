namespace Chive.Contracts.Indexing;

/// <summary>
/// The IndexWorker's fact for the saga: the operation's totals over every batch indexed so far (its running totals,
/// added to only when a batch's ledger row is new, so they are exact and never double-count a redelivered batch).
/// </summary>
public sealed record RecordsIndexed(Guid OperationId, long Batches, long Records, long Changed, long Invalid, long Deleted, long SearchErrors, long Added = 0)
{
    /// <summary>An operation of which nothing has been indexed yet.</summary>
    public static RecordsIndexed None(Guid operationId) => new(operationId, 0, 0, 0, 0, 0, 0);
}
