using System.Text.Json;
using Chive.AtProto.Identifiers;
using Chive.CitationWorker.Citations;
using Chive.CitationWorker.Extraction;

namespace Chive.UnitTests.Citations;

/// <summary>
/// Reading what Semantic Scholar and Crossref answer, in the shapes they really send (the fixtures are made up after
/// recorded answers) and in hostile ones: fields of the wrong JSON kind are absent, strings and author lists capped,
/// a paper naming nothing dropped. And what an eprint offers them: a PDF for GROBID, an id for Semantic Scholar.
/// </summary>
public sealed class UpstreamParsingTests
{
    // One item of /paper/{id}/references with fields title,year,venue,externalIds,authors,isInfluential: the cited
    // paper resolved by S2, with extra fields it sends whatever was asked.
    private const string S2Reference = """
        {
          "isInfluential": true,
          "contexts": ["Conditional GAN: Mirza and Osindero (2014) LapGAN: Denton et al. (2015)"],
          "intents": ["background"],
          "citedPaper": {
            "paperId": "5f3e0a1c2b9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f",
            "externalIds": { "MAG": "2125389028", "ArXiv": "1411.1784", "DBLP": "journals/corr/MirzaO14", "CorpusId": 12803511 },
            "corpusId": 12803511,
            "publicationVenue": { "id": "1901e811-0000-4b20-8f7e-de08cd395a10", "name": "arXiv.org", "alternate_names": ["ArXiv"] },
            "title": "Conditional Generative Adversarial Nets",
            "venue": "arXiv.org",
            "year": 2014,
            "journal": { "volume": "abs/1411.1784", "name": "ArXiv" },
            "authors": [ { "authorId": "153583218", "name": "Mehdi Mirza" }, { "authorId": "2217144", "name": "Simon Osindero" } ]
          }
        }
        """;

    [Fact]
    public void A_paper_Semantic_Scholar_resolved_is_read_whole()
    {
        using var json = JsonDocument.Parse(S2Reference);

        var work = SemanticScholarClient.Paper(json.RootElement.GetProperty("citedPaper"), isInfluential: true);

        Assert.NotNull(work);
        Assert.Equal("Conditional Generative Adversarial Nets", work.Title);
        Assert.Equal(2014, work.Year);
        Assert.Equal("arXiv.org", work.Venue);
        Assert.Equal("1411.1784", work.ArxivId);
        Assert.Null(work.Doi);
        Assert.Equal([new CitedAuthor("Mehdi", "Mirza"), new CitedAuthor("Simon", "Osindero")], work.Authors);
        Assert.True(work.IsInfluential);
    }

    [Fact]
    public void A_batch_paper_has_its_DOI_normalised_and_an_empty_venue_is_no_venue()
    {
        using var json = JsonDocument.Parse("""
            {
              "paperId": "c31c87c591a25c64fbaa82e8ac6a81831b6ac7ce",
              "externalIds": { "MAG": "2096684396", "DOI": "10.2139/SSRN.288970", "CorpusId": 470667 },
              "corpusId": 470667,
              "publicationVenue": null,
              "title": "How Much Should We Trust Differences-in-Differences Estimates?",
              "venue": "",
              "year": 2001,
              "authors": [ { "authorId": "81141608", "name": "Marianne Bertrand" }, { "authorId": "2259683", "name": "E. Duflo" },
                           { "authorId": "1", "name": "Mullainathan" } ]
            }
            """);

        var work = SemanticScholarClient.Paper(json.RootElement, isInfluential: false);

        Assert.NotNull(work);
        Assert.Equal("10.2139/ssrn.288970", work.Doi);
        Assert.Null(work.Venue);
        Assert.Equal(2001, work.Year);
        Assert.Equal([new CitedAuthor("Marianne", "Bertrand"), new CitedAuthor("E.", "Duflo"), new CitedAuthor(null, "Mullainathan")], work.Authors);
        Assert.False(work.IsInfluential);
    }

    [Fact]
    public void An_unresolved_reference_with_a_title_is_kept_without_identifiers()
    {
        // S2 sends every field of an unresolved reference as null, and often a name for its title.
        using var json = JsonDocument.Parse("""
            {
              "paperId": null, "externalIds": null, "corpusId": null, "publicationVenue": null, "url": null,
              "title": "D Scieur", "abstract": null,
              "venue": "Affine Invariant Analysis of Frank-Wolfe on Strongly Convex Sets, ICML,",
              "year": 2021, "journal": null, "authors": []
            }
            """);

        var work = SemanticScholarClient.Paper(json.RootElement, isInfluential: false);

        Assert.NotNull(work);
        Assert.Equal("D Scieur", work.Title);
        Assert.Null(work.Doi);
        Assert.Null(work.ArxivId);
        Assert.Empty(work.Authors);
    }

    [Theory]
    [InlineData("""{ "paperId": "x", "authors": [] }""")]
    [InlineData("""{ "title": null, "externalIds": null }""")]
    [InlineData("""{ "title": "   \n\t ", "externalIds": { "DOI": "not a DOI", "ArXiv": "not an id" } }""")]
    [InlineData("""{ "title": 42, "externalIds": { "DOI": 10.5555, "ArXiv": ["1411.1784"] } }""")]
    [InlineData("""{ "title": ["A title in an array"], "externalIds": ["DOI", "10.5555/x"] }""")]
    [InlineData("null")]
    [InlineData("[]")]
    [InlineData("\"A paper as a string\"")]
    [InlineData("2014")]
    public void A_paper_naming_no_title_and_no_identifier_is_nothing(string paper)
    {
        using var json = JsonDocument.Parse(paper);

        Assert.Null(SemanticScholarClient.Paper(json.RootElement, isInfluential: true));
    }

    [Fact]
    public void Fields_of_the_wrong_kind_are_absent()
    {
        using var json = JsonDocument.Parse("""
            {
              "externalIds": { "DOI": "10.5555/wrong-kinds" },
              "title": 1234,
              "venue": { "name": "Nature" },
              "year": "2014",
              "authors": { "name": "Ada Lovelace" }
            }
            """);

        var work = SemanticScholarClient.Paper(json.RootElement, isInfluential: false);

        Assert.NotNull(work);
        Assert.Equal("10.5555/wrong-kinds", work.Doi);
        Assert.Null(work.Title);
        Assert.Null(work.Venue);
        Assert.Null(work.Year);
        Assert.Empty(work.Authors);
    }

    [Fact]
    public void External_ids_that_are_not_an_object_are_no_ids()
    {
        using var json = JsonDocument.Parse("""{ "title": "A title", "externalIds": [ { "DOI": "10.5555/x" } ] }""");

        var work = SemanticScholarClient.Paper(json.RootElement, isInfluential: false);

        Assert.NotNull(work);
        Assert.Null(work.Doi);
        Assert.Null(work.ArxivId);
    }

    [Theory]
    [InlineData("99999")]
    [InlineData("999")]
    [InlineData("-2014")]
    [InlineData("2014.5")]
    [InlineData("1e300")]
    [InlineData("\"2014\"")]
    [InlineData("true")]
    [InlineData("[2014]")]
    public void A_year_that_is_not_a_plausible_integer_is_no_year(string year)
    {
        using var json = JsonDocument.Parse($$"""{ "title": "A title", "year": {{year}} }""");

        Assert.Null(SemanticScholarClient.Paper(json.RootElement, isInfluential: false)?.Year);
    }

    [Fact]
    public void Authors_of_the_wrong_kind_are_skipped()
    {
        using var json = JsonDocument.Parse("""
            { "title": "A title", "authors": [ 1, "Ada Lovelace", null, [], { "name": 5 }, { "name": "  " }, { "authorId": "9" },
                                              { "name": "  Ada   King  Lovelace " } ] }
            """);

        var work = SemanticScholarClient.Paper(json.RootElement, isInfluential: false);

        Assert.Equal([new CitedAuthor("Ada King", "Lovelace")], work?.Authors);
    }

    [Fact]
    public void Ten_thousand_authors_are_capped_at_fifty()
    {
        var authors = string.Join(',', Enumerable.Range(0, 10_000).Select(i => $$"""{ "name": "Author Number{{i}}" }"""));
        using var json = JsonDocument.Parse($$"""{ "title": "A consortium paper", "authors": [{{authors}}] }""");

        var work = SemanticScholarClient.Paper(json.RootElement, isInfluential: false);

        Assert.NotNull(work);
        Assert.Equal(50, work.Authors.Count);
        Assert.Equal(new CitedAuthor("Author", "Number0"), work.Authors[0]);
        Assert.Equal(new CitedAuthor("Author", "Number49"), work.Authors[49]);
    }

    [Fact]
    public void A_megabyte_title_is_capped_at_a_thousand_characters()
    {
        var title = new string('x', 1 << 20);
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(new { title, venue = new string('v', 1 << 20) }));

        var work = SemanticScholarClient.Paper(json.RootElement, isInfluential: false);

        Assert.NotNull(work);
        Assert.Equal(new string('x', 1000), work.Title);
        Assert.Equal(500, work.Venue?.Length);
    }

    [Fact]
    public void A_long_author_name_is_capped()
    {
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(new { title = "A title", authors = new[] { new { name = "Ada " + new string('L', 100_000) } } }));

        var author = Assert.Single(SemanticScholarClient.Paper(json.RootElement, isInfluential: false)!.Authors);

        Assert.True(author.LastName.Length < 200, $"a last name of {author.LastName.Length} characters");
    }

    [Fact]
    public void A_DOI_longer_than_a_DOI_may_be_is_no_DOI_not_a_shorter_one()
    {
        // NormalizeDoi refuses more than 300 characters; cutting the value first would turn it into another, valid DOI.
        var doi = "10.5555/" + new string('a', 400);
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(new { title = "A title", externalIds = new { DOI = doi } }));

        Assert.Null(SemanticScholarClient.Paper(json.RootElement, isInfluential: false)?.Doi);
    }

    [Fact]
    public void An_arXiv_id_that_is_valid_only_once_cut_short_is_no_arXiv_id()
    {
        // Not an arXiv id (a version that does not end in digits); its first 100 characters would be one.
        var arxiv = "arXiv:1411.1784v" + new string('1', 100) + "x";
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(new { title = "A title", externalIds = new { ArXiv = arxiv } }));

        Assert.Null(SemanticScholarClient.Paper(json.RootElement, isInfluential: false)?.ArxivId);
    }

    // The message of /works/10.1371/journal.pone.0033693, cut down to a few of its fields and authors.
    private const string CrossrefWork = """
        {
          "indexed": { "date-parts": [[2026, 6, 6]], "date-time": "2026-06-06T19:55:37Z" },
          "reference-count": 70,
          "publisher": "Public Library of Science (PLoS)",
          "issue": "3",
          "short-container-title": ["PLoS ONE"],
          "DOI": "10.1371/journal.pone.0033693",
          "type": "journal-article",
          "created": { "date-parts": [[2012, 3, 23]] },
          "page": "e33693",
          "title": ["Methylphenidate Exposure Induces Dopamine Neuron Loss and Activation of Microglia in the Basal Ganglia of Mice"],
          "volume": "7",
          "author": [
            { "given": "Shankar", "family": "Sadasivan", "sequence": "first", "affiliation": [] },
            { "given": "Brooks B.", "family": "Pond", "sequence": "additional", "affiliation": [] },
            { "given": "Richard J.", "family": "Smeyne", "sequence": "additional", "affiliation": [] }
          ],
          "published-online": { "date-parts": [[2012, 3, 21]] },
          "reference": [ { "key": "ref1", "doi-asserted-by": "publisher", "DOI": "10.1016/j.neuron.2005.01.012" } ],
          "container-title": ["PLoS ONE"],
          "original-title": [],
          "issued": { "date-parts": [[2012, 3, 21]] },
          "published": { "date-parts": [[2012, 3, 21]] }
        }
        """;

    [Fact]
    public void A_Crossref_work_is_read_whole()
    {
        using var json = JsonDocument.Parse(CrossrefWork);

        var work = CrossrefClient.Work(json.RootElement);

        Assert.Equal("Methylphenidate Exposure Induces Dopamine Neuron Loss and Activation of Microglia in the Basal Ganglia of Mice", work.Title);
        Assert.Equal(2012, work.Year);
        Assert.Equal("PLoS ONE", work.Venue);
        Assert.Equal("10.1371/journal.pone.0033693", work.Doi);
        Assert.Null(work.ArxivId);
        Assert.Equal("7", work.Volume);
        Assert.Equal("e33693", work.Pages);
        Assert.Equal([new CitedAuthor("Shankar", "Sadasivan"), new CitedAuthor("Brooks B.", "Pond"), new CitedAuthor("Richard J.", "Smeyne")], work.Authors);
        Assert.False(work.IsInfluential);
    }

    [Theory]
    [InlineData("""{ "published": { "date-parts": [2011, 3, 21] } }""")]
    [InlineData("""{ "published": { "date-parts": "2011" } }""")]
    [InlineData("""{ "published": { "date-parts": [[null]] } }""")] // Crossref's own spelling of an unknown date
    [InlineData("""{ "published": { "date-parts": [] } }""")]
    [InlineData("""{ "published": { "date-parts": [["2011"]] } }""")]
    [InlineData("""{ "published": { "date-parts": [[99999]] } }""")]
    [InlineData("""{ "published": "2011-03-21" }""")]
    [InlineData("""{ "published": [[2011]] }""")]
    [InlineData("""{ }""")]
    public void A_published_date_that_cannot_be_read_falls_back_to_the_issued_one(string published)
    {
        using var json = JsonDocument.Parse(published);
        using var issued = JsonDocument.Parse("""{ "date-parts": [[2012, 3, 21]] }""");
        var work = json.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value);
        work["issued"] = issued.RootElement;
        using var withIssued = JsonDocument.Parse(JsonSerializer.Serialize(work));

        Assert.Equal(2012, CrossrefClient.Work(withIssued.RootElement).Year);
    }

    [Theory]
    [InlineData("""{ "published": { "date-parts": [2011] }, "issued": { "date-parts": 2012 } }""")]
    [InlineData("""{ "published": { "date-parts": [[null]] }, "issued": { "date-parts": [[null]] } }""")]
    [InlineData("""{ "issued": { "date-parts": [[{ "year": 2012 }]] } }""")]
    public void A_work_with_no_readable_date_has_no_year(string dates)
    {
        using var json = JsonDocument.Parse(dates);

        Assert.Null(CrossrefClient.Work(json.RootElement).Year);
    }

    [Theory]
    [InlineData("""{ "title": [] }""", null)]
    [InlineData("""{ "title": [""] }""", null)]
    [InlineData("""{ "title": [null, 7, "", "The first real title", "A second title"] }""", "The first real title")]
    [InlineData("""{ "title": "A title as a plain string" }""", "A title as a plain string")]
    [InlineData("""{ "title": { "en": "A title in an object" } }""", null)]
    [InlineData("""{ "title": 42 }""", null)]
    [InlineData("""{ }""", null)]
    public void The_title_is_the_first_string_of_the_title_array(string work, string? title)
    {
        using var json = JsonDocument.Parse(work);

        Assert.Equal(title, CrossrefClient.Work(json.RootElement).Title);
    }

    [Fact]
    public void Fields_of_the_wrong_kind_in_a_Crossref_work_are_absent()
    {
        using var json = JsonDocument.Parse("""
            {
              "DOI": ["10.5555/x"],
              "container-title": [[]],
              "volume": 7,
              "page": { "first": "1" },
              "author": { "given": "Ada", "family": "Lovelace" }
            }
            """);

        var work = CrossrefClient.Work(json.RootElement);

        Assert.Null(work.Doi);
        Assert.Null(work.Venue);
        Assert.Null(work.Volume);
        Assert.Null(work.Pages);
        Assert.Empty(work.Authors);
    }

    [Fact]
    public void Crossref_authors_without_a_family_name_are_skipped_an_organisation_kept_by_its_name_and_the_rest_capped_at_fifty()
    {
        var people = Enumerable.Range(0, 10_000).Select(i => (object)new { given = "Given", family = "Family" + i.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        object[] odd = [new { name = "The Consortium" }, new { given = "Only" }, new { given = "Ada", family = 3 }, 42, "Ada Lovelace"];
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(new { author = odd.Concat(people) }));

        var work = CrossrefClient.Work(json.RootElement);

        Assert.Equal(50, work.Authors.Count);
        Assert.Equal(new CitedAuthor(null, "The Consortium"), work.Authors[0]);
        Assert.Equal(new CitedAuthor("Given", "Family0"), work.Authors[1]);
        Assert.Equal(new CitedAuthor("Given", "Family48"), work.Authors[49]);
    }

    [Fact]
    public void A_Crossref_DOI_longer_than_a_DOI_may_be_is_no_DOI_not_a_shorter_one()
    {
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(new Dictionary<string, string> { ["DOI"] = "10.5555/" + new string('a', 400) }));

        Assert.Null(CrossrefClient.Work(json.RootElement).Doi);
    }

    [Fact]
    public void A_Crossref_work_of_a_megabyte_title_is_capped()
    {
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(new { title = new[] { new string('t', 1 << 20) }, page = new string('p', 1 << 20) }));

        var work = CrossrefClient.Work(json.RootElement);

        Assert.Equal(1000, work.Title?.Length);
        Assert.Equal(100, work.Pages?.Length);
    }

    [Theory]
    [InlineData("bafkreipdf", "application/pdf", null, true)]
    [InlineData("bafkreipdf", "Application/PDF", "docx", true)] // the MIME type decides over the format
    [InlineData("bafkreipdf", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "pdf", false)]
    [InlineData("bafkreipdf", "text/html", null, false)]
    [InlineData("bafkreipdf", null, "pdf", true)]
    [InlineData("bafkreipdf", null, "PDF", true)]
    [InlineData("bafkreipdf", null, "docx", false)]
    [InlineData("bafkreipdf", null, null, true)] // nothing says otherwise: GROBID is asked, and says so if it is not a PDF
    [InlineData(null, "application/pdf", "pdf", false)]
    [InlineData(null, null, null, false)]
    public void Only_a_document_that_says_PDF_goes_to_GROBID(string? blob, string? mime, string? format, bool hasPdf)
    {
        Assert.Equal(hasPdf, Eprint(blob: blob, mime: mime, format: format).HasPdf);
    }

    [Theory]
    [InlineData("10.5555/eprint", "215416146", "DOI:10.5555/eprint")]
    [InlineData("10.5555/eprint", null, "DOI:10.5555/eprint")]
    [InlineData(null, "215416146", "CorpusId:215416146")]
    [InlineData(null, "c31c87c591a25c64fbaa82e8ac6a81831b6ac7ce", "c31c87c591a25c64fbaa82e8ac6a81831b6ac7ce")]
    [InlineData(null, "", null)]
    [InlineData(null, null, null)]
    public void Semantic_Scholar_knows_an_eprint_by_its_DOI_else_by_its_S2_id(string? doi, string? s2Id, string? paperId)
    {
        Assert.Equal(paperId, Eprint(doi: doi, s2Id: s2Id).SemanticScholarPaperId);
    }

    private static EprintToExtract Eprint(string? blob = null, string? mime = null, string? format = null, string? doi = null, string? s2Id = null) =>
        new("at://did:plc:abcdefghijklmnopqrstuvwx/pub.chive.eprint.submission/3kabc", Did.Parse("did:plc:abcdefghijklmnopqrstuvwx"), "An eprint", blob, mime, format, doi, s2Id);
}
