using System.Diagnostics.Metrics;

namespace Chive.CitationWorker.Citations;

/// <summary>
/// Chive's four citation series, with its names, labels and buckets, and our own count of upstream refusals, on the
/// <c>Chive.CitationWorker</c> meter: this worker's <c>/metrics</c> and OTLP. <c>source</c> is grobid,
/// semantic-scholar or crossref; <c>status</c> success, empty (no references), not_found, error or skipped (nothing to
/// read: no PDF, no DOI).
/// </summary>
public sealed class CitationMetrics
{
    public const string MeterName = "Chive.CitationWorker";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> Extractions = Meter.CreateCounter<long>(
        "chive_citation_extractions_total", description: "Citation extractions per eprint and source, by outcome.");

    private static readonly Counter<long> Extracted = Meter.CreateCounter<long>(
        "chive_citations_extracted_total", description: "Citations stored, by the source that first found them.");

    private static readonly Counter<long> Matched = Meter.CreateCounter<long>(
        "chive_citations_matched_total", description: "Citations matched to one of our eprints, by method (doi, title).");

    private static readonly Histogram<double> Duration = Meter.CreateHistogram(
        "chive_citation_extraction_duration_seconds", unit: "s", description: "Time spent on one eprint per source, by outcome.",
        tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 0.5, 1, 2, 5, 10, 30, 60] });

    private static readonly Counter<long> Refusals = Meter.CreateCounter<long>(
        "chive_citation_upstream_refusals_total",
        description: "Answers of a citation upstream that were not an answer, by source and reason (rate_limited: 429; busy: GROBID's 503; server_error: another 5xx; timeout; unreachable). Each attempt counts.");

    public void Extraction(string source, string status, TimeSpan elapsed)
    {
        Extractions.Add(1, new("source", source), new("status", status));
        Duration.Record(elapsed.TotalSeconds, new("source", source), new("status", status));
    }

    public void Stored(IReadOnlyList<Citation> citations)
    {
        foreach (var group in citations.GroupBy(c => c.Source))
        {
            Extracted.Add(group.Count(), new KeyValuePair<string, object?>("source", group.Key));
        }

        foreach (var group in citations.Where(c => c.MatchMethod is not null).GroupBy(c => c.MatchMethod!))
        {
            Matched.Add(group.Count(), new KeyValuePair<string, object?>("match_method", group.Key));
        }
    }

    /// <summary>An upstream turned an attempt away (the caller waits, retries or gives up as its policy says).</summary>
    public static void Refused(string source, string reason) =>
        Refusals.Add(1, new("source", source), new("reason", reason));
}
