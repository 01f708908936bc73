using System.ComponentModel.DataAnnotations;

namespace Chive.ScanWorker.PdsScan;

/// <summary>Settings under <c>PdsRegistry</c>: when PDSes are scanned again, and how claims and failures work.</summary>
public sealed class PdsRegistryOptions
{
    public const string SectionName = "PdsRegistry";

    /// <summary>Next scan of a PDS that had Chive records (default 24 h).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "365.00:00:00")]
    public TimeSpan ActiveRescan { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Next probe of a PDS without Chive records (default 168 h).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "365.00:00:00")]
    public TimeSpan NoRecordsRescan { get; set; } = TimeSpan.FromHours(168);

    /// <summary>First retry after a failed scan; doubles per consecutive failure up to 16× (default 1 h: 1/2/4/8/16 h).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan FailureBackoff { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Consecutive failures after which a PDS is marked unreachable and no longer scanned (default 5).</summary>
    [Range(1, 100)]
    public int MaxConsecutiveFailures { get; set; } = 5;

    /// <summary>How long a claim on a PDS lasts; a crashed worker's claim lapses after it (default 15 min).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(15);
}
