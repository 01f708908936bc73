namespace Chive.Contracts.Indexing;

/// <summary>
/// A batch of records read from one PDS, for the IndexWorker (the single writer of the index) to store and project.
/// <see cref="FetchedRecord.Value"/> is the record's JSON exactly as the PDS served it.
/// </summary>
public sealed record IndexRecords(Guid OperationId, string PdsUrl, IReadOnlyList<FetchedRecord> Records);

public sealed record FetchedRecord(string Uri, string Cid, string Value);
