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
/// Settings under <c>Sync</c>. <see cref="Mode"/> defaults to <see cref="SyncMode.Verified"/>: nothing of a repo is believed
/// unless its owner's key signed it. <see cref="SyncMode.Listing"/> remains a setting of the whole worker (there is
/// no fallback per PDS), for comparison (<c>scripts/bench.sh pds-scan</c>) or a network where <c>getRepo</c> is not served.
/// </summary>
public sealed class SyncOptions
{
    public const string SectionName = "Sync";

    public SyncMode Mode { get; set; } = SyncMode.Verified;
}
