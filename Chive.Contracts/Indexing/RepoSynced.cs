using Chive.Contracts.Operations;

namespace Chive.Contracts.Indexing;

/// <summary>
/// A repo was read completely and cleanly (or found unchanged) at revision <paramref name="Rev"/> on
/// <paramref name="PdsUrl"/>: the IndexWorker records the revision, confirms every live record of the repo (last synced
/// now), and moves them to <paramref name="PdsUrl"/> if the repo moved. <paramref name="Unchanged"/>: nothing was
/// re-read, so the confirmed records count as the operation's records. A ledger batch like any other.
/// </summary>
public sealed record RepoSynced(
    Guid OperationId, Guid BatchId, string Did, string PdsUrl, string Rev, string? CommitCid, bool Unchanged) : IOperationWork;
