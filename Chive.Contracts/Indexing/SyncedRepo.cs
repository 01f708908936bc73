namespace Chive.Contracts.Indexing;

/// <summary>
/// One repo of <see cref="RepoSynced"/>: at revision <paramref name="Rev"/> (commit <paramref name="CommitCid"/>) on
/// <paramref name="PdsUrl"/>. <paramref name="Unchanged"/>: nothing was re-read, so its confirmed records count as the
/// operation's records. <paramref name="Verified"/>: the commit is one read as a signed CAR that verified (or, when
/// unchanged, one recorded as such before); it is recorded as verified only if every batch in <paramref name="Batches"/>
/// — the repo's records and sweeps sent by the same unit — is in the ledger by then, so a repo whose batches did not all
/// land is read whole again by the next PDS scan rather than skipped.
/// </summary>
public sealed record SyncedRepo(
    string Did, string PdsUrl, string Rev, string? CommitCid, bool Unchanged, bool Verified = false, IReadOnlyList<Guid>? Batches = null);
