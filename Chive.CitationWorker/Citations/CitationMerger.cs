using Chive.CitationWorker.Extraction;

namespace Chive.CitationWorker.Citations;

/// <summary>
/// One citation per cited work. References from GROBID (in the document's order), then Semantic Scholar's reference
/// list, are folded into citations: a reference is the same work as a citation when their normalised DOIs are equal, else
/// their arXiv ids, else — when neither names a different identifier — their normalised titles (at least 10 characters)
/// and years (a reference without a year is the same work as one with the same title). Merged fields
/// keep what the first source said and take from later ones only what is missing.
/// <para>
/// Confidence, by who vouches for the work: GROBID and Semantic Scholar both 0.95; Semantic Scholar alone 0.9 (its
/// reference lists are curated); GROBID with a DOI or arXiv id 0.8, with a title 0.6, with only the raw text 0.3;
/// +0.05 when Crossref filled fields for its DOI (at most 1).
/// </para>
/// </summary>
public sealed class CitationMerger
{
    private readonly List<Draft> _drafts = [];
    private readonly Dictionary<string, Draft> _byDoi = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Draft> _byArxiv = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Title, int? Year), Draft> _byTitle = [];
    private readonly Dictionary<string, Draft> _byTitleOnly = new(StringComparer.Ordinal);

    public void AddGrobid(ExtractedReference reference, CitedWork? enrichment)
    {
        var draft = new Draft(CitationSources.Grobid)
        {
            RawText = reference.RawText,
            Title = reference.Title,
            Doi = reference.Doi,
            ArxivId = reference.ArxivId,
            Authors = reference.Authors,
            Year = reference.Year,
            Venue = reference.Venue,
            Volume = reference.Volume,
            Pages = reference.Pages,
        };
        if (enrichment is not null)
        {
            draft.Fill(enrichment, CitationSources.SemanticScholar);
        }

        Add(draft);
    }

    public void AddSemanticScholar(CitedWork work)
    {
        var draft = new Draft(CitationSources.SemanticScholar);
        draft.Fill(work, CitationSources.SemanticScholar);
        Add(draft);
    }

    /// <summary>DOIs of the merged citations that lack a title, year or venue: what Crossref is asked for.</summary>
    public IReadOnlyList<string> IncompleteDois() =>
        _drafts.Where(d => d.Doi is not null && (d.Title is null || d.Year is null || d.Venue is null)).Select(d => d.Doi!).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>Fills what Crossref knows of <paramref name="doi"/> into the citation that has it.</summary>
    public void AddCrossref(string doi, CitedWork work)
    {
        if (_byDoi.TryGetValue(doi, out var draft))
        {
            draft.Fill(work, CitationSources.Crossref);
        }
    }

    public IReadOnlyList<Citation> Citations() => _drafts.Where(d => d.Title is not null || d.RawText is not null || d.Doi is not null || d.ArxivId is not null)
        .Select(d => new Citation(d.RawText, d.Title, d.Doi, d.ArxivId, d.Authors, d.Year, d.Venue, d.Volume, d.Pages,
            d.Sources[0], d.Sources.ToList(), Confidence(d), d.IsInfluential))
        .ToList();

    private void Add(Draft incoming)
    {
        var existing = Find(incoming);
        if (existing is null)
        {
            _drafts.Add(incoming);
            Index(incoming);
            return;
        }

        existing.Merge(incoming);
        Index(existing);
    }

    private Draft? Find(Draft draft)
    {
        if (draft.Doi is { } doi && _byDoi.TryGetValue(doi, out var byDoi))
        {
            return byDoi;
        }

        if (draft.ArxivId is { } arxiv && _byArxiv.TryGetValue(arxiv, out var byArxiv) && Compatible(byArxiv, draft))
        {
            return byArxiv;
        }

        if (TitleKey(draft) is not { } title)
        {
            return null;
        }

        // The same title in the same year; or, when one side has no year (GROBID often misses it), the same title.
        if (_byTitle.TryGetValue((title, draft.Year), out var same) && Compatible(same, draft))
        {
            return same;
        }

        var undated = draft.Year is null ? _byTitleOnly.GetValueOrDefault(title) : _byTitle.GetValueOrDefault((title, null));
        return undated is not null && Compatible(undated, draft) && (undated.Year is null || draft.Year is null || undated.Year == draft.Year) ? undated : null;
    }

    /// <summary>Two works that each name a different DOI (or arXiv id) are different works, whatever their titles.</summary>
    private static bool Compatible(Draft a, Draft b) =>
        (a.Doi is null || b.Doi is null || a.Doi == b.Doi) && (a.ArxivId is null || b.ArxivId is null || a.ArxivId == b.ArxivId);

    private void Index(Draft draft)
    {
        if (draft.Doi is { } doi)
        {
            _byDoi.TryAdd(doi, draft);
        }

        if (draft.ArxivId is { } arxiv)
        {
            _byArxiv.TryAdd(arxiv, draft);
        }

        if (TitleKey(draft) is { } title)
        {
            _byTitle.TryAdd((title, draft.Year), draft);
            _byTitleOnly.TryAdd(title, draft);
        }
    }

    /// <summary>
    /// The normalised title, when it is long enough to name one work (as for matching: a key of fewer than
    /// <see cref="CitationMatcher.MinTitleKeyLength"/> characters — "Erratum", a title in a script normalisation drops —
    /// would merge different works).
    /// </summary>
    private static string? TitleKey(Draft draft) =>
        CitationIdentifiers.NormalizeTitle(draft.Title) is { Length: >= CitationMatcher.MinTitleKeyLength } title ? title : null;

    private static double Confidence(Draft draft)
    {
        var grobid = draft.Sources.Contains(CitationSources.Grobid);
        var s2 = draft.Sources.Contains(CitationSources.SemanticScholar);
        var confidence = (grobid, s2) switch
        {
            (true, true) => 0.95,
            (false, true) => 0.9,
            _ when draft.Doi is not null || draft.ArxivId is not null => 0.8,
            _ when draft.Title is not null => 0.6,
            _ => 0.3,
        };
        return Math.Min(1, draft.Sources.Contains(CitationSources.Crossref) ? confidence + 0.05 : confidence);
    }

    private sealed class Draft(string source)
    {
        public List<string> Sources { get; } = [source];

        public string? RawText { get; set; }

        public string? Title { get; set; }

        public string? Doi { get; set; }

        public string? ArxivId { get; set; }

        public IReadOnlyList<CitedAuthor> Authors { get; set; } = [];

        public int? Year { get; set; }

        public string? Venue { get; set; }

        public string? Volume { get; set; }

        public string? Pages { get; set; }

        public bool? IsInfluential { get; set; }

        /// <summary>Takes from <paramref name="work"/> what this draft lacks; <paramref name="source"/> joins its sources if it added anything or confirmed the work.</summary>
        public void Fill(CitedWork work, string source)
        {
            Title ??= work.Title;
            Doi ??= work.Doi;
            ArxivId ??= work.ArxivId;
            Year ??= work.Year;
            Venue ??= work.Venue;
            Volume ??= work.Volume;
            Pages ??= work.Pages;
            if (Authors.Count == 0)
            {
                Authors = work.Authors;
            }

            if (source == CitationSources.SemanticScholar)
            {
                IsInfluential = (IsInfluential ?? false) || work.IsInfluential;
            }

            if (!Sources.Contains(source))
            {
                Sources.Add(source);
            }
        }

        public void Merge(Draft other)
        {
            RawText ??= other.RawText;
            Fill(new CitedWork(other.Title, other.Year, other.Venue, other.Doi, other.ArxivId, other.Authors, other.Volume, other.Pages, other.IsInfluential ?? false), other.Sources[0]);
            if (other.IsInfluential is { } influential)
            {
                IsInfluential = (IsInfluential ?? false) || influential;
            }

            foreach (var source in other.Sources.Where(s => !Sources.Contains(s)))
            {
                Sources.Add(source);
            }
        }
    }
}
