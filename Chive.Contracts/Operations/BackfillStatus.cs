namespace Chive.Contracts.Operations;

/// <summary>The four statuses of an operation, as the API spells them.</summary>
public static class BackfillStatus
{
    public const string Running = "running";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    /// <summary>Not a status an operation has: the answer about an operation that expired or never was.</summary>
    public const string NotFound = "notFound";

    public static IReadOnlyList<string> All { get; } = [Running, Completed, Failed, Cancelled];
}
