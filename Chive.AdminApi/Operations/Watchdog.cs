using System.Globalization;

namespace Chive.AdminApi.Operations;

/// <summary>
/// The rules the saga applies when the watchdog asks about a running operation (<see cref="OperationWatchdog"/> asks;
/// these decide). "Heard" is any report from a worker: progress, a lane's totals, a batch indexed.
/// </summary>
internal static class Watchdog
{
    /// <summary>Nothing was ever heard since the first unit was sent, long enough ago: it may have been lost — send it again.</summary>
    public static bool ShouldResendStart(BackfillOperation operation, OperationsOptions options, DateTimeOffset now) =>
        operation.LastHeardAt is null
        && operation.StartResends < options.MaxStartResends
        && now - (operation.StartSentAt ?? operation.StartedAt) >= options.StartResendAfter;

    /// <summary>Nothing heard for the stall timeout (since the last report, or since the start when there was none).</summary>
    public static bool IsStalled(BackfillOperation operation, OperationsOptions options, DateTimeOffset now) =>
        now - LastSign(operation) >= options.StallTimeout;

    public static string StallError(BackfillOperation operation, OperationsOptions options) =>
        string.Create(CultureInfo.InvariantCulture,
            $"stalled: no progress since {LastSign(operation):u} (nothing heard from any worker for {options.StallTimeout}, Operations:StallTimeout)");

    /// <summary>Whether the watchdog should ask the saga about <paramref name="operation"/> at all (a cheap first look).</summary>
    public static bool NeedsAttention(BackfillOperation operation, OperationsOptions options, DateTimeOffset now) =>
        ShouldResendStart(operation, options, now) || IsStalled(operation, options, now);

    private static DateTimeOffset LastSign(BackfillOperation operation) =>
        operation.LastHeardAt ?? operation.StartSentAt ?? operation.StartedAt;
}
