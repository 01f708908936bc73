using System.ComponentModel.DataAnnotations;

namespace Chive.IndexWorker.Indexing;

/// <summary>Settings under <c>Ledger</c>: how long the IndexWorker keeps the bookkeeping of finished operations.</summary>
public sealed class LedgerOptions
{
    public const string SectionName = "Ledger";

    /// <summary>
    /// How long batch ledger rows, operation totals and chain positions are kept after their last write (default 7 days,
    /// far longer than any operation runs or any message waits in a queue).
    /// </summary>
    [Range(typeof(TimeSpan), "01:00:00", "365.00:00:00")]
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// How long a repo's revision waits for the batches of the read that recorded it to be applied (they travel on other
    /// queues, so the last is often still being written) before its commit is recorded as unverified — read whole by the
    /// next PDS scan instead of skipped (default 15 s).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan RepoBatchesWait { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often the old rows are pruned (default hourly).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan PruneInterval { get; set; } = TimeSpan.FromHours(1);
}
