using Chive.CitationWorker.Extraction;

namespace Chive.CitationWorker.Citations;

/// <summary>The sources a citation can come from, spelled as <c>extracted_citations.source</c> spells them.</summary>
public static class CitationSources
{
    public const string Grobid = "grobid";
    public const string SemanticScholar = "semantic-scholar";
    public const string Crossref = "crossref";
}

/// <summary>
/// One cited work of an eprint, merged from every source that named it: <see cref="Source"/> is the first that found it,
/// <see cref="Sources"/> all that contributed. <see cref="MatchUri"/> is our own eprint it is, when we hold it.
/// </summary>
public sealed record Citation(
    string? RawText,
    string? Title,
    string? Doi,
    string? ArxivId,
    IReadOnlyList<CitedAuthor> Authors,
    int? Year,
    string? Venue,
    string? Volume,
    string? Pages,
    string Source,
    IReadOnlyList<string> Sources,
    double Confidence,
    bool? IsInfluential,
    string? MatchUri = null,
    double? MatchConfidence = null,
    string? MatchMethod = null)
{
    /// <summary>Has everything Crossref could add: a title, a year and a venue.</summary>
    public bool IsComplete => Title is not null && Year is not null && Venue is not null;
}
