namespace Chive.Contracts.PdsScan;

/// <summary>
/// A lane's running totals (monotonic: a later report of the same lane never has smaller numbers).
/// <see cref="PdsesLimited"/>: PDSes whose scan stopped at a cap or a cursor cycle; <see cref="ReposNotHosted"/>: repos a
/// PDS listed whose DID document names another PDS (their records are not taken from it). The freshness scan adds
/// repos found unchanged (one request each), unreachable (nothing changed), moved to another PDS (read from there),
/// deactivated or suspended (kept, not confirmed) and gone (taken down or deleted: their records removed).
/// <see cref="ReposUnverified"/>: repos read as signed CARs (<c>Sync:Mode = verified</c>) whose CAR did not verify —
/// nothing of them indexed or swept.
/// </summary>
public sealed record ScanTotals(
    long ReposKnown,
    long ReposDone,
    long ReposSkipped,
    long BatchesSent,
    long RecordsListed,
    int PdsesScanned,
    int PdsesFailed,
    int PdsesLimited = 0,
    long ReposNotHosted = 0,
    long ReposUnchanged = 0,
    long ReposUnreachable = 0,
    long ReposMoved = 0,
    long ReposDeactivated = 0,
    long ReposGone = 0,
    long ReposUnverified = 0)
{
    /// <summary>A lane that has done nothing yet.</summary>
    public static ScanTotals Zero { get; } = new(0, 0, 0, 0, 0, 0, 0);
}
