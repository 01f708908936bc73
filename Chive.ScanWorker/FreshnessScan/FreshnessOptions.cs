using System.ComponentModel.DataAnnotations;
using Chive.Contracts.FreshnessScan;

namespace Chive.ScanWorker.FreshnessScan;

/// <summary>
/// Settings under <c>Freshness</c>: the windows of the tiers and the size of a unit of work. The four timed tiers are
/// disjoint: <c>urgent</c> = records first indexed less than <see cref="NewFor"/> ago and unchecked for
/// <see cref="UrgentAfter"/>; the others take the older records by time since their last check — <c>recent</c> from
/// <see cref="RecentAfter"/> to <see cref="NormalAfter"/>, <c>normal</c> from <see cref="NormalAfter"/> to
/// <see cref="BackgroundAfter"/>, <c>background</c> beyond.
/// </summary>
public sealed class FreshnessOptions
{
    public const string SectionName = "Freshness";

    /// <summary>How long a record counts as new, for the urgent tier (default 1 day: new eprints change most).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "365.00:00:00")]
    public TimeSpan NewFor { get; set; } = TimeSpan.FromDays(1);

    /// <summary>A new record is checked again after this long (default 6 h).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "365.00:00:00")]
    public TimeSpan UrgentAfter { get; set; } = TimeSpan.FromHours(6);

    /// <summary>An older record is due after this long unchecked (default 6 h): the start of the recent tier.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "365.00:00:00")]
    public TimeSpan RecentAfter { get; set; } = TimeSpan.FromHours(6);

    /// <summary>The end of the recent tier and the start of the normal one (default 24 h).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "365.00:00:00")]
    public TimeSpan NormalAfter { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The end of the normal tier and the start of the background one (default 7 days).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "365.00:00:00")]
    public TimeSpan BackgroundAfter { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Stale repos per unit of work (default 50); the last DID of a unit is the checkpoint.</summary>
    [Range(1, 10_000)]
    public int ReposPerChunk { get; set; } = 50;

    /// <summary>Repos of a unit whose DID and revision are looked up at once (default 8); each host keeps its own pace.</summary>
    [Range(1, 64)]
    public int Concurrency { get; set; } = 8;

    /// <summary>The window of <paramref name="tier"/> as of <paramref name="now"/>, fixed for the whole scan.</summary>
    public FreshnessWindow WindowFor(string tier, DateTimeOffset now)
    {
        var urgent = new FreshnessBounds(IndexedAfter: now - NewFor, IndexedBefore: null, SyncedBefore: now - UrgentAfter, SyncedAfter: null);
        return tier switch
        {
            FreshnessTiers.Urgent => new([urgent]),
            FreshnessTiers.Recent => new([Older(now, RecentAfter, NormalAfter)]),
            FreshnessTiers.Normal => new([Older(now, NormalAfter, BackgroundAfter)]),
            FreshnessTiers.Background => new([Older(now, BackgroundAfter, until: null)]),
            FreshnessTiers.All => FreshnessWindow.Everything,
            // Due: exactly the union of the four timed tiers — new records unchecked for UrgentAfter, older ones for RecentAfter.
            _ => new([urgent, Older(now, RecentAfter, until: null)]),
        };
    }

    /// <summary>Records older than <see cref="NewFor"/>, unchecked for at least <paramref name="from"/> and less than <paramref name="until"/>.</summary>
    private FreshnessBounds Older(DateTimeOffset now, TimeSpan from, TimeSpan? until) =>
        new(IndexedAfter: null, IndexedBefore: now - NewFor, SyncedBefore: now - from, SyncedAfter: now - until);
}
