using System.Globalization;

namespace Chive.Contracts.Citations;

/// <summary>
/// What a citation extraction did so far. <see cref="EprintsProcessed"/> is the operation's <c>recordsProcessed</c>;
/// the others become its metadata under the names of <see cref="ToMetadata"/>.
/// </summary>
public sealed record CitationTotals(
    long EprintsProcessed,
    long CitationsExtracted,
    long CitationsMatched,
    long PdfMissing,
    long PdfUnavailable,
    long GrobidFailures,
    long S2Lookups,
    long S2NotFound,
    long CrossrefLookups,
    long CacheHits,
    long LookupFailures,
    long SkippedUnchanged,
    long EprintsWritten)
{
    public static CitationTotals Zero { get; } = new(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    public CitationTotals Add(CitationTotals other) => new(
        EprintsProcessed + other.EprintsProcessed,
        CitationsExtracted + other.CitationsExtracted,
        CitationsMatched + other.CitationsMatched,
        PdfMissing + other.PdfMissing,
        PdfUnavailable + other.PdfUnavailable,
        GrobidFailures + other.GrobidFailures,
        S2Lookups + other.S2Lookups,
        S2NotFound + other.S2NotFound,
        CrossrefLookups + other.CrossrefLookups,
        CacheHits + other.CacheHits,
        LookupFailures + other.LookupFailures,
        SkippedUnchanged + other.SkippedUnchanged,
        EprintsWritten + other.EprintsWritten);

    /// <summary>The operation's metadata: the names, plus what an operator needs to read them.</summary>
    public IReadOnlyDictionary<string, string> ToMetadata() => new Dictionary<string, string>
    {
        ["citationsExtracted"] = Text(CitationsExtracted),
        ["citationsMatched"] = Text(CitationsMatched),
        ["pdfMissing"] = Text(PdfMissing),
        ["pdfUnavailable"] = Text(PdfUnavailable),
        ["grobidFailures"] = Text(GrobidFailures),
        ["s2Lookups"] = Text(S2Lookups),
        ["s2NotFound"] = Text(S2NotFound),
        ["crossrefLookups"] = Text(CrossrefLookups),
        ["cacheHits"] = Text(CacheHits),
        ["lookupFailures"] = Text(LookupFailures),
        ["skippedUnchanged"] = Text(SkippedUnchanged),
        ["eprintsWritten"] = Text(EprintsWritten),
    };

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
}
