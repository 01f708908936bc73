namespace Chive.Contracts.PdsScan;

/// <summary>A lane's running totals (monotonic: a later report of the same lane never has smaller numbers).</summary>
public sealed record ScanTotals(
    long ReposKnown,
    long ReposDone,
    long ReposSkipped,
    long BatchesSent,
    long RecordsListed,
    int PdsesScanned,
    int PdsesFailed)
{
    /// <summary>A lane that has done nothing yet.</summary>
    public static ScanTotals Zero { get; } = new(0, 0, 0, 0, 0, 0, 0);
}
