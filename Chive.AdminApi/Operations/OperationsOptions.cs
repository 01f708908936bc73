using System.ComponentModel.DataAnnotations;

namespace Chive.AdminApi.Operations;

/// <summary>Settings under <c>Operations</c>.</summary>
public sealed class OperationsOptions
{
    public const string SectionName = "Operations";

    /// <summary>How long a finished operation stays in the history (default 24 h). Running ones never expire.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "365.00:00:00")]
    public TimeSpan Retention { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Interval of the scheduled governance sync (default 30 min; zero turns it off).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "7.00:00:00")]
    public TimeSpan GovernanceSyncInterval { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Interval of the scheduled freshness scan of everything due (default 1 h; zero turns it off).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "7.00:00:00")]
    public TimeSpan FreshnessScanInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Interval of the scheduled PDS scan of everything due, which first discovers new PDSes (default 15 min, Chive's;
    /// zero turns it off).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "7.00:00:00")]
    public TimeSpan PdsScanInterval { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// A running operation from which no worker has reported anything (progress, a batch indexed, a failure) for this
    /// long is failed as stalled, and its scope released (default 30 min).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan StallTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// A running operation from which no worker has reported anything at all this long after its start gets its first
    /// unit of work sent again (a start lost between the saga's save and its send); starts are idempotent (default 2 min).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan StartResendAfter { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How many times a start is sent again at most (default 3).</summary>
    [Range(0, 100)]
    public int MaxStartResends { get; set; } = 3;

    /// <summary>How often the watchdog looks at the running operations (default 30 s).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan WatchInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Prefix of every Redis key the operation store writes (default <c>chive:backfill:</c>).</summary>
    [Required]
    public string KeyPrefix { get; set; } = "chive:backfill:";
}
