using Chive.CitationWorker.Extraction;

namespace Chive.CitationWorker.Citations;

/// <summary>A cited work as Semantic Scholar or Crossref describes it.</summary>
public sealed record CitedWork(
    string? Title,
    int? Year,
    string? Venue,
    string? Doi,
    string? ArxivId,
    IReadOnlyList<CitedAuthor> Authors,
    string? Volume = null,
    string? Pages = null,
    bool IsInfluential = false);
