using System.Diagnostics.Metrics;

namespace Chive.ScanWorker.PdsScan;

/// <summary>
/// The ScanWorker's own series, on the <c>Chive.ScanWorker</c> meter (its <c>/metrics</c> and OTLP), counted where the
/// registry records the fact — so a chunk run again after its outcome was recorded counts nothing. No PDS is a label:
/// there may be thousands; the registry says which.
/// </summary>
public static class ScanMetrics
{
    public const string MeterName = "Chive.ScanWorker";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> Scans = Meter.CreateCounter<long>("chive_pds_scans_total",
        description: "Scans of one PDS recorded in the registry, by outcome (completed, unverified: a repo did not verify, failed, limited: stopped at a cap).");

    private static readonly Counter<long> Unreachable = Meter.CreateCounter<long>("chive_pds_unreachable_total",
        description: "PDSes that reached PdsRegistry:MaxConsecutiveFailures and are no longer scanned.");

    private static readonly Counter<long> DiscoveredPdses = Meter.CreateCounter<long>("chive_pdses_discovered_total",
        description: "PDSes added to the registry by discovery, by source (plc_enumeration, relay_listhosts).");

    /// <summary>At 0 from the start (once the exporters listen): an alert on increase() then sees the first PDS turned unreachable after a restart.</summary>
    public static void Baseline() => Unreachable.Add(0);

    public static void PdsScanned(string outcome) => Scans.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public static void BecameUnreachable() => Unreachable.Add(1);

    public static void Discovered(string source, int count)
    {
        if (count > 0)
        {
            DiscoveredPdses.Add(count, new KeyValuePair<string, object?>("source", source));
        }
    }
}
