using Chive.CitationWorker.Citations;
using Chive.CitationWorker.Extraction;

namespace Chive.UnitTests.Citations;

/// <summary>
/// How GROBID's references, Semantic Scholar's reference list and Crossref's works fold into one citation per cited
/// work: which references are the same work, which fields win, the confidence each combination of sources earns, and
/// the order the citations come out in. DOIs and arXiv ids arrive normalised, as the parsers hand them over.
/// </summary>
public sealed class CitationMergerTests
{
    private const string Grobid = CitationSources.Grobid;
    private const string SemanticScholar = CitationSources.SemanticScholar;
    private const string Crossref = CitationSources.Crossref;

    [Fact]
    public void A_GROBID_reference_enriched_by_Semantic_Scholar_is_vouched_for_by_both()
    {
        var merger = new CitationMerger();
        var reference = Reference(
            title: "Tidal mixing in shallow estuaries", year: 2011, doi: "10.5555/tidal.31", volume: "31",
            raw: "Okafor R. Tidal mixing in shallow estuaries. 2011;31.", authors: [new("R", "Okafor")]);
        var enrichment = Work(
            title: "Tidal Mixing in Shallow Estuaries (extended)", year: 2012, venue: "Journal of Coastal Hydrodynamics",
            doi: "10.5555/tidal.31", volume: "32", pages: "412-430", authors: [new("Rita", "Okafor"), new("Lars", "Berg")]);

        merger.AddGrobid(reference, enrichment);

        var citation = Assert.Single(merger.Citations());
        Assert.Equal(Grobid, citation.Source);
        Assert.Equal([Grobid, SemanticScholar], citation.Sources);
        Assert.Equal(0.95, citation.Confidence, 10);

        // What GROBID read stays; Semantic Scholar only fills what GROBID did not find.
        Assert.Equal("Tidal mixing in shallow estuaries", citation.Title);
        Assert.Equal(2011, citation.Year);
        Assert.Equal("31", citation.Volume);
        Assert.Equal([new CitedAuthor("R", "Okafor")], citation.Authors);
        Assert.Equal("Okafor R. Tidal mixing in shallow estuaries. 2011;31.", citation.RawText);
        Assert.Equal("Journal of Coastal Hydrodynamics", citation.Venue);
        Assert.Equal("412-430", citation.Pages);
        Assert.Equal("10.5555/tidal.31", citation.Doi);
    }

    [Fact]
    public void Semantic_Scholar_fills_the_authors_when_GROBID_found_none()
    {
        var merger = new CitationMerger();

        merger.AddGrobid(Reference(title: "Seed dispersal by frugivorous bats", doi: "10.5555/bats"),
            Work(doi: "10.5555/bats", authors: [new("Ana", "Quispe")]));

        Assert.Equal([new CitedAuthor("Ana", "Quispe")], Assert.Single(merger.Citations()).Authors);
    }

    [Fact]
    public void A_Semantic_Scholar_reference_with_the_same_DOI_joins_the_GROBID_citation()
    {
        var merger = new CitationMerger();
        merger.AddGrobid(Reference(title: "Seed dispersal by frugivorous bats", doi: "10.5555/bats.9"), null);

        merger.AddSemanticScholar(Work(title: "Seed Dispersal by Frugivorous Bats in the Andes", year: 1998, venue: "Ecology Letters", doi: "10.5555/bats.9"));

        var citation = Assert.Single(merger.Citations());
        Assert.Equal([Grobid, SemanticScholar], citation.Sources);
        Assert.Equal(0.95, citation.Confidence, 10);
        Assert.Equal("Seed dispersal by frugivorous bats", citation.Title);
        Assert.Equal(1998, citation.Year);
        Assert.Equal("Ecology Letters", citation.Venue);
    }

    [Fact]
    public void A_Semantic_Scholar_reference_with_the_same_arXiv_id_joins_the_GROBID_citation()
    {
        var merger = new CitationMerger();
        merger.AddGrobid(Reference(title: "Conditional GANs", arxiv: "1411.1784"), null);

        merger.AddSemanticScholar(Work(title: "Conditional Generative Adversarial Nets", year: 2014, venue: "arXiv.org", arxiv: "1411.1784"));

        var citation = Assert.Single(merger.Citations());
        Assert.Equal([Grobid, SemanticScholar], citation.Sources);
        Assert.Equal("Conditional GANs", citation.Title);
        Assert.Equal(2014, citation.Year);
        Assert.Equal("1411.1784", citation.ArxivId);
    }

    [Fact]
    public void Titles_that_differ_only_in_case_and_punctuation_are_the_same_work_in_the_same_year()
    {
        var merger = new CitationMerger();
        merger.AddGrobid(Reference(title: "Conditional generative adversarial nets.", year: 2014), null);

        merger.AddSemanticScholar(Work(title: "CONDITIONAL Generative-Adversarial Nets", year: 2014, doi: "10.5555/cgan"));

        var citation = Assert.Single(merger.Citations());
        Assert.Equal([Grobid, SemanticScholar], citation.Sources);
        Assert.Equal("Conditional generative adversarial nets.", citation.Title);
        Assert.Equal("10.5555/cgan", citation.Doi);
    }

    [Fact]
    public void A_title_match_joins_a_citation_that_names_no_DOI_even_when_the_newcomer_names_one()
    {
        var merger = new CitationMerger();
        merger.AddGrobid(Reference(title: "Neural variational inference", year: 2014, doi: "10.5555/nvil"), null);

        merger.AddSemanticScholar(Work(title: "Neural Variational Inference", year: 2014));

        var citation = Assert.Single(merger.Citations());
        Assert.Equal("10.5555/nvil", citation.Doi);
    }

    [Fact]
    public void Works_with_equal_titles_but_different_DOIs_stay_apart()
    {
        var merger = new CitationMerger();
        merger.AddGrobid(Reference(title: "Erratum", year: 2014, doi: "10.5555/erratum.1"), null);

        merger.AddSemanticScholar(Work(title: "Erratum", year: 2014, doi: "10.5555/erratum.2"));

        var citations = merger.Citations();
        Assert.Equal(["10.5555/erratum.1", "10.5555/erratum.2"], citations.Select(c => c.Doi));
        Assert.Equal([Grobid], citations[0].Sources);
        Assert.Equal([SemanticScholar], citations[1].Sources);
    }

    [Fact]
    public void Works_with_equal_titles_but_different_arXiv_ids_stay_apart()
    {
        var merger = new CitationMerger();
        merger.AddGrobid(Reference(title: "Lecture notes on gauge theory", year: 1999, arxiv: "hep-th/9901001"), null);

        merger.AddSemanticScholar(Work(title: "Lecture Notes on Gauge Theory", year: 1999, arxiv: "hep-th/9901002"));

        Assert.Equal(["hep-th/9901001", "hep-th/9901002"], merger.Citations().Select(c => c.ArxivId));
    }

    [Fact]
    public void Works_with_equal_titles_in_different_years_stay_apart()
    {
        var merger = new CitationMerger();
        merger.AddGrobid(Reference(title: "Annual report on coastal erosion", year: 2019), null);

        merger.AddSemanticScholar(Work(title: "Annual Report on Coastal Erosion", year: 2020));

        Assert.Equal([2019, 2020], merger.Citations().Select(c => c.Year));
    }

    [Fact]
    public void The_same_paper_from_the_enrichment_and_from_the_reference_list_is_one_citation_with_each_source_once()
    {
        var merger = new CitationMerger();
        var paper = Work(title: "Tidal mixing in shallow estuaries", year: 2011, venue: "Estuaries", doi: "10.5555/tidal");
        merger.AddGrobid(Reference(title: "Tidal mixing in shallow estuaries", doi: "10.5555/tidal"), paper);

        merger.AddSemanticScholar(paper);

        Assert.Equal([Grobid, SemanticScholar], Assert.Single(merger.Citations()).Sources);
    }

    [Fact]
    public void Incomplete_DOIs_are_those_of_citations_lacking_a_title_a_year_or_a_venue()
    {
        var merger = new CitationMerger();
        merger.AddGrobid(Reference(title: "Complete", year: 2001, venue: "Venue", doi: "10.5555/complete"), null);
        merger.AddGrobid(Reference(title: "No venue", year: 2002, doi: "10.5555/no-venue"), null);
        merger.AddGrobid(Reference(title: "No year", venue: "Venue", doi: "10.5555/no-year"), null);
        merger.AddGrobid(Reference(title: "No DOI at all"), null);
        merger.AddSemanticScholar(Work(year: 2004, venue: "Venue", doi: "10.5555/no-title"));
        merger.AddSemanticScholar(Work(title: "Complete again", year: 2005, venue: "Venue", doi: "10.5555/complete-again"));

        Assert.Equal(["10.5555/no-venue", "10.5555/no-year", "10.5555/no-title"], merger.IncompleteDois());
    }

    [Fact]
    public void Crossref_fills_what_is_missing_and_adds_its_source_and_confidence()
    {
        var merger = new CitationMerger();
        merger.AddGrobid(Reference(title: "Methylphenidate exposure induces dopamine neuron loss", doi: "10.1371/journal.pone.0033693"), null);

        merger.AddCrossref("10.1371/journal.pone.0033693", Work(
            title: "Methylphenidate Exposure Induces Dopamine Neuron Loss and Activation of Microglia in the Basal Ganglia of Mice",
            year: 2012, venue: "PLoS ONE", doi: "10.1371/journal.pone.0033693", volume: "7", pages: "e33693",
            authors: [new("Shankar", "Sadasivan")]));

        var citation = Assert.Single(merger.Citations());
        Assert.Equal(Grobid, citation.Source);
        Assert.Equal([Grobid, Crossref], citation.Sources);
        Assert.Equal(0.85, citation.Confidence, 10);
        Assert.Equal("Methylphenidate exposure induces dopamine neuron loss", citation.Title);
        Assert.Equal(2012, citation.Year);
        Assert.Equal("PLoS ONE", citation.Venue);
        Assert.Equal("7", citation.Volume);
        Assert.Equal("e33693", citation.Pages);
        Assert.Equal([new CitedAuthor("Shankar", "Sadasivan")], citation.Authors);
        Assert.Empty(merger.IncompleteDois());
        Assert.Null(citation.IsInfluential); // Crossref says nothing about influence
    }

    [Fact]
    public void Crossref_on_top_of_GROBID_and_Semantic_Scholar_reaches_confidence_one_and_no_more()
    {
        var merger = new CitationMerger();
        merger.AddGrobid(Reference(title: "Seed dispersal", doi: "10.5555/seed"), Work(doi: "10.5555/seed", year: 1998));

        merger.AddCrossref("10.5555/seed", Work(venue: "Ecology Letters"));

        var citation = Assert.Single(merger.Citations());
        Assert.Equal([Grobid, SemanticScholar, Crossref], citation.Sources);
        Assert.Equal(1.0, citation.Confidence, 10);
    }

    [Fact]
    public void Crossref_for_a_DOI_no_citation_has_changes_nothing()
    {
        var merger = new CitationMerger();
        merger.AddGrobid(Reference(title: "Seed dispersal", doi: "10.5555/seed"), null);

        merger.AddCrossref("10.5555/other", Work(title: "Other", year: 2000, venue: "Elsewhere"));

        var citation = Assert.Single(merger.Citations());
        Assert.Equal([Grobid], citation.Sources);
        Assert.Null(citation.Venue);
        Assert.Equal(0.8, citation.Confidence, 10);
    }

    [Fact]
    public void Semantic_Scholar_alone_is_trusted_at_0_9()
    {
        var merger = new CitationMerger();

        merger.AddSemanticScholar(Work(title: "Conditional Generative Adversarial Nets"));

        var citation = Assert.Single(merger.Citations());
        Assert.Equal(SemanticScholar, citation.Source);
        Assert.Equal(0.9, citation.Confidence, 10);
    }

    [Theory]
    [InlineData("A title", "10.5555/x", null, "raw", 0.8)]
    [InlineData(null, "10.5555/x", null, null, 0.8)]
    [InlineData("A title", null, "1411.1784", "raw", 0.8)]
    [InlineData("A title", null, null, "raw", 0.6)]
    [InlineData(null, null, null, "Okafor R. Tidal mixing. 2011.", 0.3)]
    public void GROBID_alone_is_trusted_by_what_it_found(string? title, string? doi, string? arxiv, string? raw, double expected)
    {
        var merger = new CitationMerger();

        merger.AddGrobid(Reference(title: title, doi: doi, arxiv: arxiv, raw: raw), null);

        var citation = Assert.Single(merger.Citations());
        Assert.Equal([Grobid], citation.Sources);
        Assert.Equal(expected, citation.Confidence, 10);
    }

    [Fact]
    public void A_reference_without_title_raw_text_DOI_or_arXiv_id_is_dropped()
    {
        var merger = new CitationMerger();
        merger.AddGrobid(Reference(year: 2011, venue: "Journal of Coastal Hydrodynamics", volume: "31", pages: "1-2", authors: [new("R", "Okafor")]), null);
        merger.AddSemanticScholar(Work(year: 2012, venue: "Ecology Letters", authors: [new("Ana", "Quispe")]));
        merger.AddGrobid(Reference(title: "Kept"), null);

        Assert.Equal(["Kept"], merger.Citations().Select(c => c.Title));
    }

    [Fact]
    public void Citations_come_in_GROBID_order_then_the_works_only_Semantic_Scholar_named()
    {
        var merger = new CitationMerger();
        merger.AddGrobid(Reference(title: "First in the document"), null);
        merger.AddGrobid(Reference(title: "Second in the document", doi: "10.5555/second"), null);
        merger.AddGrobid(Reference(raw: "Third in the document, raw text only"), null);
        merger.AddSemanticScholar(Work(title: "Only in Semantic Scholar, first"));
        merger.AddSemanticScholar(Work(title: "Second in the document (as S2 titles it)", doi: "10.5555/second"));
        merger.AddSemanticScholar(Work(title: "Only in Semantic Scholar, second"));

        Assert.Equal(
            ["First in the document", "Second in the document", null, "Only in Semantic Scholar, first", "Only in Semantic Scholar, second"],
            merger.Citations().Select(c => c.Title));
    }

    [Fact]
    public void Influence_comes_from_Semantic_Scholar_only()
    {
        var merger = new CitationMerger();
        merger.AddGrobid(Reference(title: "GROBID alone"), null);
        merger.AddGrobid(Reference(title: "Enriched", doi: "10.5555/enriched"), Work(doi: "10.5555/enriched", influential: true));
        merger.AddGrobid(Reference(title: "Cited in passing", doi: "10.5555/passing"), null);
        merger.AddSemanticScholar(Work(title: "Cited in passing", doi: "10.5555/passing", influential: false));
        merger.AddSemanticScholar(Work(title: "Influential, S2 only", influential: true));

        Assert.Equal([null, true, false, true], merger.Citations().Select(c => c.IsInfluential));
    }

    [Fact]
    public void A_work_influential_by_either_Semantic_Scholar_answer_is_influential()
    {
        var merger = new CitationMerger();
        merger.AddGrobid(Reference(title: "Enriched", doi: "10.5555/enriched"), Work(doi: "10.5555/enriched", influential: false));

        merger.AddSemanticScholar(Work(doi: "10.5555/enriched", influential: true));

        Assert.True(Assert.Single(merger.Citations()).IsInfluential);
    }

    [Fact]
    public void A_reference_without_a_year_is_the_same_work_as_one_with_the_same_title_and_a_year()
    {
        var merger = new CitationMerger();
        merger.AddGrobid(Reference(title: "Seed dispersal by frugivorous bats", raw: "Bats, seeds."), null);

        merger.AddSemanticScholar(Work(title: "Seed Dispersal by Frugivorous Bats", year: 1998, venue: "Ecology Letters"));

        var citation = Assert.Single(merger.Citations());
        Assert.Equal((1998, "Ecology Letters", "grobid+semantic-scholar"), (citation.Year, citation.Venue, string.Join('+', citation.Sources)));
    }

    [Fact]
    public void Short_titles_never_make_two_references_one_work()
    {
        var merger = new CitationMerger();
        merger.AddGrobid(Reference(title: "Erratum", year: 2014), null);

        merger.AddSemanticScholar(Work(title: "Erratum", year: 2014));

        Assert.Equal(2, merger.Citations().Count);
    }

    private static ExtractedReference Reference(
        string? title = null, int? year = null, string? doi = null, string? arxiv = null, string? raw = null, string? venue = null,
        string? volume = null, string? pages = null, IReadOnlyList<CitedAuthor>? authors = null) =>
        new(raw, title, authors ?? [], year, doi, arxiv, venue, volume, pages);

    private static CitedWork Work(
        string? title = null, int? year = null, string? venue = null, string? doi = null, string? arxiv = null,
        IReadOnlyList<CitedAuthor>? authors = null, string? volume = null, string? pages = null, bool influential = false) =>
        new(title, year, venue, doi, arxiv, authors ?? [], volume, pages, influential);
}
