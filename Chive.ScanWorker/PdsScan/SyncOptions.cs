namespace Chive.ScanWorker.PdsScan;

/// <summary>How a repo's records are read.</summary>
public enum SyncMode
{
    /// <summary><c>listRecords</c>, page by page per collection: what the PDS says.</summary>
    Listing,

    /// <summary>One <c>getRepo</c>: the repo as a CAR, believed only where its owner's key signed it.</summary>
    Verified,
}

/// <summary>
/// Settings under <c>Sync</c>. <see cref="Mode"/> defaults to <see cref="SyncMode.Listing"/> for now: the test doubles
/// that play PDSes do not all serve signed repos yet, and the suites run in listing mode (issue 16 makes verified the
/// default once they do).
/// </summary>
public sealed class SyncOptions
{
    public const string SectionName = "Sync";

    public SyncMode Mode { get; set; } = SyncMode.Verified;
}
