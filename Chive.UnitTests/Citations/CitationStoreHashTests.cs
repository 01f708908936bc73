using Chive.CitationWorker.Citations;

namespace Chive.UnitTests.Citations;

/// <summary>
/// The digest that lets an unchanged extraction leave an eprint's rows alone: equal rows, equal digest; any difference a
/// reader could see in the rows — a field, a match, a confidence, their order — a different one.
/// </summary>
public sealed class CitationStoreHashTests
{
    [Fact]
    public void Equal_citation_lists_have_equal_hashes()
    {
        // Built twice, so that no list or record instance is shared between the two.
        Assert.Equal(CitationStore.Hash(Citations()), CitationStore.Hash(Citations()));
    }

    [Fact]
    public void The_hash_is_hex_of_a_SHA_256()
    {
        Assert.Matches("^[0-9a-f]{64}$", CitationStore.Hash(Citations()));
        Assert.Matches("^[0-9a-f]{64}$", CitationStore.Hash([]));
    }

    [Fact]
    public void No_citations_hash_differently_from_some()
    {
        Assert.NotEqual(CitationStore.Hash([]), CitationStore.Hash(Citations()));
    }

    public static TheoryData<string> Changes() =>
    [
        "raw text", "title", "title removed", "doi", "arxiv", "author first name", "author added", "year", "venue", "volume",
        "pages", "source", "sources", "confidence", "match uri", "match confidence", "match method", "influential", "influence unknown",
    ];

    [Theory]
    [MemberData(nameof(Changes))]
    public void Any_field_change_changes_the_hash(string change)
    {
        var original = Citations();
        var changed = Citations();
        changed[1] = Change(changed[1], change);

        Assert.NotEqual(CitationStore.Hash(original), CitationStore.Hash(changed));
    }

    [Fact]
    public void The_order_of_the_citations_changes_the_hash()
    {
        var reordered = Citations();
        (reordered[0], reordered[1]) = (reordered[1], reordered[0]);

        Assert.NotEqual(CitationStore.Hash(Citations()), CitationStore.Hash(reordered));
    }

    private static Citation Change(Citation c, string change) => change switch
    {
        "raw text" => c with { RawText = c.RawText + "." },
        "title" => c with { Title = "Conditional Generative Adversarial Networks" },
        "title removed" => c with { Title = null },
        "doi" => c with { Doi = "10.5555/cgan.2" },
        "arxiv" => c with { ArxivId = "1411.1785" },
        "author first name" => c with { Authors = [new("M.", "Mirza"), new("Simon", "Osindero")] },
        "author added" => c with { Authors = [.. c.Authors, new("Ian", "Goodfellow")] },
        "year" => c with { Year = 2015 },
        "venue" => c with { Venue = "ArXiv" },
        "volume" => c with { Volume = "abs/1411.1785" },
        "pages" => c with { Pages = "2" },
        "source" => c with { Source = CitationSources.SemanticScholar },
        "sources" => c with { Sources = [CitationSources.Grobid] },
        "confidence" => c with { Confidence = 0.8 },
        "match uri" => c with { MatchUri = "at://did:plc:abcdefghijklmnopqrstuvwx/pub.chive.eprint.submission/3kcgan2" },
        "match confidence" => c with { MatchConfidence = 0.9 },
        "match method" => c with { MatchMethod = "title" },
        "influential" => c with { IsInfluential = false },
        "influence unknown" => c with { IsInfluential = null },
        _ => throw new ArgumentOutOfRangeException(nameof(change), change, null),
    };

    private static List<Citation> Citations() =>
    [
        new("Okafor R. Tidal mixing in shallow estuaries. 2011;31.", "Tidal mixing in shallow estuaries", "10.5555/tidal.31", null,
            [new("R", "Okafor")], 2011, "Journal of Coastal Hydrodynamics", "31", "412-430",
            CitationSources.Grobid, [CitationSources.Grobid, CitationSources.Crossref], 0.85, null),
        new("Mirza M, Osindero S. Conditional generative adversarial nets. 2014.", "Conditional Generative Adversarial Nets", "10.5555/cgan",
            "1411.1784", [new("Mehdi", "Mirza"), new("Simon", "Osindero")], 2014, "arXiv.org", "abs/1411.1784", "1",
            CitationSources.Grobid, [CitationSources.Grobid, CitationSources.SemanticScholar], 0.95, true,
            "at://did:plc:abcdefghijklmnopqrstuvwx/pub.chive.eprint.submission/3kcgan", 1.0, "doi"),
    ];
}
