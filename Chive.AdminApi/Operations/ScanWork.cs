using System.Globalization;
using Chive.Contracts.Indexing;
using Chive.Contracts.PdsScan;

namespace Chive.AdminApi.Operations;

/// <summary>
/// How the saga follows a scan (PDS scan, DID sync): the lanes report their totals, the IndexWorker reports the
/// operation's totals from its batch ledger. The scan is done when every lane has finished and every batch the lanes
/// sent has been indexed — not when the scanner stops. Reports are cumulative, so a late or repeated one never
/// counts twice: each value only grows.
/// </summary>
internal static class ScanWork
{
    public static void RecordLane(BackfillOperation operation, ScanLaneProgressed report)
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
    }

    public static void RecordIndexed(BackfillOperation operation, RecordsIndexed report)
    {
        if (operation.Indexed is null || report.Batches >= operation.Indexed.Batches)
        {
            operation.Indexed = report;
        }

        operation.RecordsProcessed = Math.Max(operation.RecordsProcessed, operation.Indexed.Records);
    }

    public static bool IsDone(BackfillOperation operation) =>
        operation.ScanLanes > 0
        && operation.FinishedLanes.Count >= operation.ScanLanes
        && (operation.Indexed?.Batches ?? 0) >= operation.LaneTotals.Values.Sum(t => t.BatchesSent);

    public static void Complete(BackfillOperation operation, TimeProvider time)
    {
        operation.Progress = 100;
        operation.CompletedAt = time.GetUtcNow();
        var lanes = operation.LaneTotals.Values.ToList();
        var indexed = operation.Indexed ?? RecordsIndexed.None(operation.CorrelationId);
        operation.RecordsProcessed = Math.Max(operation.RecordsProcessed, indexed.Records);
        void Set(string key, long value) => operation.Metadata[key] = value.ToString(CultureInfo.InvariantCulture);
        Set("pdsesScanned", lanes.Sum(t => t.PdsesScanned));
        Set("pdsesFailed", lanes.Sum(t => t.PdsesFailed));
        Set("pdsesLimited", lanes.Sum(t => t.PdsesLimited));
        Set("reposNotHosted", lanes.Sum(t => t.ReposNotHosted));
        Set("reposScanned", lanes.Sum(t => t.ReposDone));
        Set("reposSkipped", lanes.Sum(t => t.ReposSkipped));
        Set("recordsChanged", indexed.Changed);
        Set("invalidRecords", indexed.Invalid);
        Set("deletedRecords", indexed.Deleted);
        Set("searchErrors", indexed.SearchErrors);
    }

    private static ScanTotals Max(ScanTotals a, ScanTotals b) => new(
        Math.Max(a.ReposKnown, b.ReposKnown), Math.Max(a.ReposDone, b.ReposDone), Math.Max(a.ReposSkipped, b.ReposSkipped),
        Math.Max(a.BatchesSent, b.BatchesSent), Math.Max(a.RecordsListed, b.RecordsListed),
        Math.Max(a.PdsesScanned, b.PdsesScanned), Math.Max(a.PdsesFailed, b.PdsesFailed),
        Math.Max(a.PdsesLimited, b.PdsesLimited), Math.Max(a.ReposNotHosted, b.ReposNotHosted));
}
