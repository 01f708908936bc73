using Prometheus;

namespace Chive.CitationWorker.Citations;

/// <summary>
/// Chive's four citation series, with its names, labels and buckets, served on this worker's <c>/metrics</c>.
/// <c>source</c> is grobid, semantic-scholar or crossref; <c>status</c> success, empty (no references), not_found,
/// error or skipped (nothing to read: no PDF, no DOI).
/// </summary>
public sealed class CitationMetrics
{
    private static readonly Counter Extractions = Metrics.CreateCounter(
        "chive_citation_extractions_total", "Citation extractions per eprint and source, by outcome.",
        new CounterConfiguration { LabelNames = ["source", "status"] });

    private static readonly Counter Extracted = Metrics.CreateCounter(
        "chive_citations_extracted_total", "Citations stored, by the source that first found them.",
        new CounterConfiguration { LabelNames = ["source"] });

    private static readonly Counter Matched = Metrics.CreateCounter(
        "chive_citations_matched_total", "Citations matched to one of our eprints, by method (doi, title).",
        new CounterConfiguration { LabelNames = ["match_method"] });

    private static readonly Histogram Duration = Metrics.CreateHistogram(
        "chive_citation_extraction_duration_seconds", "Time spent on one eprint per source, by outcome.",
        new HistogramConfiguration { LabelNames = ["source", "status"], Buckets = [0.1, 0.5, 1, 2, 5, 10, 30, 60] });

    public void Extraction(string source, string status, TimeSpan elapsed)
    {
        Extractions.WithLabels(source, status).Inc();
        Duration.WithLabels(source, status).Observe(elapsed.TotalSeconds);
    }

    public void Stored(IReadOnlyList<Citation> citations)
    {
        foreach (var group in citations.GroupBy(c => c.Source))
        {
            Extracted.WithLabels(group.Key).Inc(group.Count());
        }

        foreach (var group in citations.Where(c => c.MatchMethod is not null).GroupBy(c => c.MatchMethod!))
        {
            Matched.WithLabels(group.Key).Inc(group.Count());
        }
    }
}
