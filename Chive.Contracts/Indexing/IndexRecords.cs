using Chive.Contracts.Operations;

namespace Chive.Contracts.Indexing;

/// <summary>
/// A batch of records read from one PDS, for the IndexWorker (the single writer of the index) to store and project,
/// with the sweeps of the collections listed completely since the unit's last batch (<paramref name="Sweeps"/>, applied
/// in the same transaction; a batch may carry sweeps and no records). <see cref="FetchedRecord.Value"/> is the record's
/// JSON exactly as the PDS served it. <paramref name="BatchId"/> is content-addressed (operation + the records' URIs and
/// CIDs, the sweeps and the repos it completes), so a batch sent or delivered twice is applied and counted once.
/// <paramref name="Synced"/>: repos read completely whose records and sweeps all ride in this batch (or that have none),
/// recorded and confirmed in the same transaction, after the records, as a <see cref="RepoSynced"/> would — without a
/// message, a transaction and a report of their own, and without waiting for batches on other deliveries. A repo whose
/// records went out in more than one batch still gets its <see cref="RepoSynced"/>.
/// </summary>
public sealed record IndexRecords(
    Guid OperationId, Guid BatchId, string PdsUrl, IReadOnlyList<FetchedRecord> Records, IReadOnlyList<CollectionSweep>? Sweeps = null,
    IReadOnlyList<SyncedRepo>? Synced = null) : IOperationWork;
