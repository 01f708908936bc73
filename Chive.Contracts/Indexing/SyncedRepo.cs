namespace Chive.Contracts.Indexing;

/// <summary>
/// One repo of <see cref="RepoSynced"/>: at revision <paramref name="Rev"/> (commit <paramref name="CommitCid"/>) on
/// <paramref name="PdsUrl"/>. <paramref name="Unchanged"/>: nothing was re-read, so its confirmed records count as the
/// operation's records.
/// </summary>
public sealed record SyncedRepo(string Did, string PdsUrl, string Rev, string? CommitCid, bool Unchanged);
