namespace Chive.CitationWorker.Extraction;

/// <summary>
/// One entry of a paper's reference list. Every field may be missing; a reference has at least a title, raw text, a DOI
/// or an arXiv id. <see cref="Doi"/> and <see cref="ArxivId"/> are already normalised (<see cref="CitationIdentifiers"/>).
/// </summary>
public sealed record ExtractedReference(
    string? RawText,
    string? Title,
    IReadOnlyList<CitedAuthor> Authors,
    int? Year,
    string? Doi,
    string? ArxivId,
    string? Venue,
    string? Volume,
    string? Pages);
