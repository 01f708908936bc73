using System.Diagnostics.Metrics;

namespace Chive.IndexWorker.Indexing;

/// <summary>
/// The IndexWorker's own series, on the <c>Chive.IndexWorker</c> meter (its <c>/metrics</c> and OTLP), counted after a
/// batch's transaction committed — a batch delivered twice finds its ledger row and counts nothing the second time.
/// </summary>
public static class IndexingMetrics
{
    public const string MeterName = "Chive.IndexWorker";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> Records = Meter.CreateCounter<long>("chive_records_indexed_total",
        description: "Records the IndexWorker applied, by outcome (changed: written; unchanged: confirmed as they were; invalid: rejected; deleted: marked deleted by a sweep or a removal).");

    private static readonly Counter<long> SearchErrors = Meter.CreateCounter<long>("chive_search_errors_total",
        description: "Search documents Elasticsearch refused in a bulk request (the records are stored; a reindex writes them again).");

    internal static void Committed(IndexBatchProcessor.LedgerEntry entry)
    {
        Add("changed", entry.Changed);
        Add("unchanged", entry.Records - entry.Changed);
        Add("invalid", entry.Invalid);
        Add("deleted", entry.Deleted);
        if (entry.SearchErrors > 0)
        {
            SearchErrors.Add(entry.SearchErrors);
        }
    }

    private static void Add(string outcome, int count)
    {
        if (count > 0)
        {
            Records.Add(count, new KeyValuePair<string, object?>("outcome", outcome));
        }
    }
}
