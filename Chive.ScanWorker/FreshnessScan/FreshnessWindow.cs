namespace Chive.ScanWorker.FreshnessScan;

/// <summary>
/// Which live records a freshness scan checks: those inside any of <see cref="Any"/>. The bounds are absolute, fixed at
/// the scan's start, so every chunk selects by the same rule however long the scan runs. No bounds at all: every live
/// record.
/// </summary>
public sealed record FreshnessWindow(IReadOnlyList<FreshnessBounds> Any)
{
    public static FreshnessWindow Everything { get; } = new([FreshnessBounds.None]);
}

/// <summary>
/// Records first indexed after <see cref="IndexedAfter"/> and at or before <see cref="IndexedBefore"/>, last confirmed
/// against their PDS before <see cref="SyncedBefore"/> and at or after <see cref="SyncedAfter"/>. A null bound does not bound.
/// </summary>
public sealed record FreshnessBounds(DateTimeOffset? IndexedAfter, DateTimeOffset? IndexedBefore, DateTimeOffset? SyncedBefore, DateTimeOffset? SyncedAfter)
{
    public static FreshnessBounds None { get; } = new(null, null, null, null);
}
