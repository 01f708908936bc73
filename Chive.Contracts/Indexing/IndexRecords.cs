namespace Chive.Contracts.Indexing;

/// <summary>
/// A batch of records read from one PDS, for the IndexWorker (the single writer of the index) to store and project.
/// <see cref="FetchedRecord.Value"/> is the record's JSON exactly as the PDS served it. <paramref name="BatchId"/> is
/// content-addressed (operation + the records' URIs and CIDs), so a batch sent or delivered twice is applied and counted once.
/// </summary>
public sealed record IndexRecords(Guid OperationId, Guid BatchId, string PdsUrl, IReadOnlyList<FetchedRecord> Records);

public sealed record FetchedRecord(string Uri, string Cid, string Value);

/// <summary>
/// After a complete listing of <paramref name="Collection"/> in <paramref name="Did"/>'s repo: every record we hold
/// there whose record key is not in <paramref name="PresentRkeys"/> (and that was not written after
/// <paramref name="ListedFrom"/>) is gone from the PDS and is marked deleted. Sent only for complete listings.
/// </summary>
public sealed record SweepCollection(
    Guid OperationId, Guid BatchId, string Did, string Collection, IReadOnlyList<string> PresentRkeys, DateTimeOffset ListedFrom);

/// <summary>
/// The IndexWorker's fact for the saga: the operation's totals over every batch indexed so far (read from the batch
/// ledger after each batch, so they are exact and never double-count a redelivered batch).
/// </summary>
public sealed record RecordsIndexed(Guid OperationId, long Batches, long Records, long Changed, long Invalid, long Deleted, long SearchErrors);
