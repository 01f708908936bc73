namespace Chive.Contracts.Operations;

/// <summary>The four statuses of an operation, as the API spells them.</summary>
public static class BackfillStatus
{
    public const string Running = "running";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static IReadOnlyList<string> All { get; } = [Running, Completed, Failed, Cancelled];
}
