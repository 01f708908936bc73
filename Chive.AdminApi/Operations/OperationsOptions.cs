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

    /// <summary>Prefix of every Redis key the operation store writes (default <c>chive:backfill:</c>).</summary>
    [Required]
    public string KeyPrefix { get; set; } = "chive:backfill:";
}
