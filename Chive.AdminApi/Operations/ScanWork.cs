using System.Globalization;
using Chive.Contracts.Indexing;
using Chive.Contracts.PdsScan;

namespace Chive.AdminApi.Operations;

/// <summary>
/// How the saga follows a scan (PDS scan, DID sync, freshness scan): the lanes report their totals, the IndexWorker reports the
/// operation's totals from its batch ledger. The scan is done when every lane has finished and every batch the lanes
/// sent has been indexed — not when the scanner stops. Reports are cumulative, so a late or repeated one never
/// counts twice: each value only grows.
/// </summary>
public static class ScanWork
{
    /// <summary>What an operation type reports of a scan (<c>IOperationType.DescribeScan</c>).</summary>
    public delegate IReadOnlyDictionary<string, long> Describe(ScanTotals lanes, RecordsIndexed indexed);

    public static void RecordLane(BackfillOperation operation, ScanLaneProgressed report, Describe describe)
    {
        operation.ScanLanes = Math.Max(operation.ScanLanes, report.Lanes);
        var totals = operation.LaneTotals.TryGetValue(report.Lane, out var known) ? Max(known, report.Totals) : report.Totals;
        operation.LaneTotals[report.Lane] = totals;
        if (report.Finished && !operation.FinishedLanes.Contains(report.Lane))
        {
            operation.FinishedLanes.Add(report.Lane);
        }

        var reposKnown = operation.LaneTotals.Values.Sum(t => t.ReposKnown);
        var reposDone = operation.LaneTotals.Values.Sum(t => t.ReposDone + t.ReposSkipped);
        if (reposKnown > 0)
        {
            operation.Progress = Math.Max(operation.Progress, (int)Math.Clamp(reposDone * 100 / reposKnown, 0, 99));
        }

        Report(operation, describe);
    }

    public static void RecordIndexed(BackfillOperation operation, RecordsIndexed report, Describe describe)
    {
        if (operation.Indexed is null || report.Batches >= operation.Indexed.Batches)
        {
            operation.Indexed = report;
        }

        operation.RecordsProcessed = Math.Max(operation.RecordsProcessed, operation.Indexed.Records);
        Report(operation, describe);
    }

    public static bool IsDone(BackfillOperation operation) =>
        operation.ScanLanes > 0
        && operation.FinishedLanes.Count >= operation.ScanLanes
        && (operation.Indexed?.Batches ?? 0) >= operation.LaneTotals.Values.Sum(t => t.BatchesSent);

    /// <summary>Completes the scan, with the final numbers of <see cref="Report"/>.</summary>
    public static void Complete(BackfillOperation operation, TimeProvider time, Describe describe)
    {
        operation.Progress = 100;
        operation.CompletedAt = time.GetUtcNow();
        Report(operation, describe);
    }

    /// <summary>
    /// The scan's numbers so far, as the operation's type describes them, in its metadata — updated on every report, so
    /// a running scan shows what it has done (the same keys it ends with), not only a percentage.
    /// </summary>
    private static void Report(BackfillOperation operation, Describe describe)
    {
        var indexed = operation.Indexed ?? RecordsIndexed.None(operation.CorrelationId);
        operation.RecordsProcessed = Math.Max(operation.RecordsProcessed, indexed.Records);
        foreach (var (key, value) in describe(Sum(operation.LaneTotals.Values), indexed))
        {
            operation.Metadata[key] = value.ToString(CultureInfo.InvariantCulture);
        }
    }

    /// <summary>What a PDS scan or a DID sync reports when it completes.</summary>
    public static IReadOnlyDictionary<string, long> ScanMetadata(ScanTotals lanes, RecordsIndexed indexed) => new Dictionary<string, long>
    {
        ["pdsesScanned"] = lanes.PdsesScanned,
        ["pdsesFailed"] = lanes.PdsesFailed,
        ["pdsesLimited"] = lanes.PdsesLimited,
        ["reposNotHosted"] = lanes.ReposNotHosted,
        ["reposScanned"] = lanes.ReposDone,
        ["reposUnchanged"] = lanes.ReposUnchanged,
        ["reposSkipped"] = lanes.ReposSkipped,
        ["reposUnverified"] = lanes.ReposUnverified,
        ["recordsChanged"] = indexed.Changed,
        ["invalidRecords"] = indexed.Invalid,
        ["deletedRecords"] = indexed.Deleted,
        ["searchErrors"] = indexed.SearchErrors,
    };

    private static ScanTotals Sum(IEnumerable<ScanTotals> lanes) => lanes.Aggregate(ScanTotals.Zero, (a, b) => new(
        a.ReposKnown + b.ReposKnown, a.ReposDone + b.ReposDone, a.ReposSkipped + b.ReposSkipped, a.BatchesSent + b.BatchesSent,
        a.RecordsListed + b.RecordsListed, a.PdsesScanned + b.PdsesScanned, a.PdsesFailed + b.PdsesFailed, a.PdsesLimited + b.PdsesLimited,
        a.ReposNotHosted + b.ReposNotHosted, a.ReposUnchanged + b.ReposUnchanged, a.ReposUnreachable + b.ReposUnreachable,
        a.ReposMoved + b.ReposMoved, a.ReposDeactivated + b.ReposDeactivated, a.ReposGone + b.ReposGone, a.ReposUnverified + b.ReposUnverified));

    private static ScanTotals Max(ScanTotals a, ScanTotals b) => new(
        Math.Max(a.ReposKnown, b.ReposKnown), Math.Max(a.ReposDone, b.ReposDone), Math.Max(a.ReposSkipped, b.ReposSkipped),
        Math.Max(a.BatchesSent, b.BatchesSent), Math.Max(a.RecordsListed, b.RecordsListed),
        Math.Max(a.PdsesScanned, b.PdsesScanned), Math.Max(a.PdsesFailed, b.PdsesFailed),
        Math.Max(a.PdsesLimited, b.PdsesLimited), Math.Max(a.ReposNotHosted, b.ReposNotHosted),
        Math.Max(a.ReposUnchanged, b.ReposUnchanged), Math.Max(a.ReposUnreachable, b.ReposUnreachable), Math.Max(a.ReposMoved, b.ReposMoved),
        Math.Max(a.ReposDeactivated, b.ReposDeactivated), Math.Max(a.ReposGone, b.ReposGone), Math.Max(a.ReposUnverified, b.ReposUnverified));
}
