using Chive.Contracts.Operations;

namespace Chive.Contracts.Indexing;

/// <summary>
/// A batch of records read from one PDS, for the IndexWorker (the single writer of the index) to store and project,
/// with the sweeps of the collections listed completely since the unit's last batch (<paramref name="Sweeps"/>, applied
/// in the same transaction; a batch may carry sweeps and no records). <see cref="FetchedRecord.Value"/> is the record's
/// JSON exactly as the PDS served it. <paramref name="BatchId"/> is content-addressed (operation + the records' URIs and
/// CIDs and the sweeps), so a batch sent or delivered twice is applied and counted once.
/// </summary>
public sealed record IndexRecords(
    Guid OperationId, Guid BatchId, string PdsUrl, IReadOnlyList<FetchedRecord> Records, IReadOnlyList<CollectionSweep>? Sweeps = null) : IOperationWork;
