namespace Chive.Contracts.FreshnessScan;

/// <summary>
/// The tiers of a freshness scan, as the API spells them. Each selects live records by when they were first indexed and
/// last confirmed against their PDS; the four timed tiers are disjoint (windows in the ScanWorker's
/// <c>Freshness:*</c> settings). No tier (<see cref="Due"/>) is their union; <see cref="All"/> is every live record.
/// </summary>
public static class FreshnessTiers
{
    /// <summary>Records first indexed recently (new eprints change most) and unchecked for a few hours.</summary>
    public const string Urgent = "urgent";

    /// <summary>Older records unchecked for hours, not yet a day.</summary>
    public const string Recent = "recent";

    /// <summary>Older records unchecked for a day to a week.</summary>
    public const string Normal = "normal";

    /// <summary>Older records unchecked for more than a week.</summary>
    public const string Background = "background";

    /// <summary>Every live record, whatever its age: the operator's "check everything now".</summary>
    public const string All = "all";

    /// <summary>No tier given: every record due in any of the four timed tiers.</summary>
    public const string Due = "due";

    public static IReadOnlyList<string> Named { get; } = [Urgent, Recent, Normal, Background, All];
}
