using Chive.Contracts.Operations;

namespace Chive.Contracts.Indexing;

/// <summary>
/// Repos read completely and cleanly, or found unchanged (see <see cref="SyncedRepo"/>), sent after their records: the
/// IndexWorker records each one's revision, confirms every live record of it (last synced now), and moves them to the
/// PDS it lives on now. One message for all the repos of a unit of work; a ledger batch like any other.
/// </summary>
public sealed record RepoSynced(Guid OperationId, Guid BatchId, IReadOnlyList<SyncedRepo> Repos) : IOperationWork;
