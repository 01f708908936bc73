using System.Text;
using Chive.CitationWorker.Extraction;

namespace Chive.UnitTests.Citations;

/// <summary>
/// The reference list GROBID writes as TEI: the shapes it emits (journal articles, books, DOIs, raw citations, fulltext
/// headers) and what a hostile document does (DTDs, entities, malformed XML, huge strings, deep nesting). The fixtures
/// are made up, in the shape of real GROBID output.
/// </summary>
public sealed class TeiReferencesTests
{
    private const string JournalArticles = """
        <TEI xmlns="http://www.tei-c.org/ns/1.0" xmlns:xlink="http://www.w3.org/1999/xlink">
        	<teiHeader/>
        	<text>
        		<front/>
        		<body/>
        		<back>
        			<div>
        				<listBibl>
        <biblStruct xml:id="b0">
        	<analytic>
        		<title level="a" type="main">Tidal   mixing in
        		shallow estuaries</title>
        		<author>
        			<persName><forename type="first">R</forename><surname>Okafor</surname></persName>
        		</author>
        		<author>
        			<persName><forename type="first">L</forename><forename type="middle">M</forename><forename type="middle">J</forename><surname>Van Der Berg</surname></persName>
        		</author>
        	</analytic>
        	<monogr>
        		<title level="j">Journal of Coastal Hydrodynamics</title>
        		<imprint>
        			<biblScope unit="volume">31</biblScope>
        			<biblScope unit="issue">4</biblScope>
        			<biblScope unit="page" from="412" to="430" />
        			<date type="published" when="2011-07-14" />
        		</imprint>
        	</monogr>
        </biblStruct>

        <biblStruct xml:id="b1">
        	<analytic>
        		<title level="a" type="main">Seed dispersal by frugivorous bats</title>
        		<author>
        			<persName><forename type="first">Ana</forename><surname>Quispe</surname></persName>
        		</author>
        	</analytic>
        	<monogr>
        		<title level="j">Ecology Letters</title>
        		<imprint>
        			<biblScope unit="volume">9</biblScope>
        			<biblScope unit="page">e204511</biblScope>
        			<date type="published" when="1998" />
        		</imprint>
        	</monogr>
        </biblStruct>
        				</listBibl>
        			</div>
        		</back>
        	</text>
        </TEI>
        """;

    [Fact]
    public void A_journal_article_gives_its_title_authors_year_volume_pages_and_journal()
    {
        var references = Parse(JournalArticles);

        Assert.Equal(2, references.Count);
        var first = references[0];
        Assert.Equal("Tidal mixing in shallow estuaries", first.Title);
        Assert.Equal([new CitedAuthor("R", "Okafor"), new CitedAuthor("L M J", "Van Der Berg")], first.Authors);
        Assert.Equal(2011, first.Year);
        Assert.Equal("31", first.Volume);
        Assert.Equal("412-430", first.Pages);
        Assert.Equal("Journal of Coastal Hydrodynamics", first.Venue);
        Assert.Null(first.Doi);
        Assert.Null(first.ArxivId);
        Assert.Null(first.RawText);
    }

    [Fact]
    public void Pages_without_from_and_to_are_the_element_text()
    {
        var second = Parse(JournalArticles)[1];

        Assert.Equal("Seed dispersal by frugivorous bats", second.Title);
        Assert.Equal("e204511", second.Pages);
        Assert.Equal(1998, second.Year);
    }

    [Fact]
    public void A_reference_with_a_DOI_and_a_raw_reference_note_keeps_both_and_the_DOI_is_normalised()
    {
        var references = Parse(ListBibl("""
            <biblStruct xml:id="b0">
            	<analytic>
            		<title level="a" type="main">Glacier retreat and sediment flux</title>
            		<author><persName><forename type="first">P</forename><surname>Haraldsson</surname></persName></author>
            		<idno type="doi">https://doi.org/10.5555/GLAC.2019.0042</idno>
            	</analytic>
            	<monogr>
            		<title level="j">Earth Surface Letters</title>
            		<title level="j" type="abbrev">Earth Surf. Lett.</title>
            		<imprint>
            			<biblScope unit="volume">12</biblScope>
            			<biblScope unit="page" from="7" />
            			<date type="published" when="2019-02" />
            		</imprint>
            	</monogr>
            	<note type="raw_reference">Haraldsson P. Glacier retreat and
            	   sediment flux. Earth Surf. Lett. 2019; 12:7.</note>
            </biblStruct>
            """));

        var reference = Assert.Single(references);
        Assert.Equal("10.5555/glac.2019.0042", reference.Doi);
        Assert.Equal("Haraldsson P. Glacier retreat and sediment flux. Earth Surf. Lett. 2019; 12:7.", reference.RawText);
        Assert.Equal("Earth Surface Letters", reference.Venue); // the full title, not the abbreviation
        Assert.Equal("7", reference.Pages);
        Assert.Equal(2019, reference.Year);
    }

    [Fact]
    public void An_arXiv_idno_is_normalised()
    {
        var references = Parse(ListBibl("""
            <biblStruct>
            	<analytic><title level="a" type="main">Sparse attention for long documents</title></analytic>
            	<monogr>
            		<idno type="ARXIV">arXiv:2104.01234v3</idno>
            		<imprint><date type="published" when="2021" /></imprint>
            	</monogr>
            </biblStruct>
            """));

        Assert.Equal("2104.01234", Assert.Single(references).ArxivId);
    }

    [Fact]
    public void A_reference_known_only_by_its_DOI_is_kept()
    {
        var references = Parse(ListBibl("""
            <biblStruct><analytic><idno type="DOI">10.5555/only.doi</idno></analytic><monogr><imprint/></monogr></biblStruct>
            """));

        var reference = Assert.Single(references);
        Assert.Null(reference.Title);
        Assert.Equal("10.5555/only.doi", reference.Doi);
    }

    [Fact]
    public void A_book_with_only_a_monogr_takes_its_title_and_authors_and_has_no_venue()
    {
        var references = Parse(ListBibl("""
            <biblStruct xml:id="b3">
            	<monogr>
            		<author><persName><forename type="first">H</forename><surname>Lindqvist</surname></persName></author>
            		<author><persName><forename type="first">T</forename><surname>Mbeki-Ross</surname></persName></author>
            		<title level="m">Water Law in Arid Regions</title>
            		<editor><persName><forename type="first">C</forename><surname>Editorson</surname></persName></editor>
            		<meeting><address><addrLine>Cheltenham</addrLine></address></meeting>
            		<imprint>
            			<publisher>Riverbank Press</publisher>
            			<date type="published" when="2016" />
            			<biblScope unit="volume">4</biblScope>
            		</imprint>
            	</monogr>
            </biblStruct>
            """));

        var book = Assert.Single(references);
        Assert.Equal("Water Law in Arid Regions", book.Title);
        Assert.Equal([new CitedAuthor("H", "Lindqvist"), new CitedAuthor("T", "Mbeki-Ross")], book.Authors);
        Assert.Null(book.Venue);
        Assert.Equal(2016, book.Year);
        Assert.Equal("4", book.Volume);
    }

    [Fact]
    public void A_chapter_without_its_own_title_takes_the_book_title_and_its_analytic_authors()
    {
        var references = Parse(ListBibl("""
            <biblStruct>
            	<analytic>
            		<author><persName><forename type="first">Maria</forename><surname>Costa</surname></persName></author>
            	</analytic>
            	<monogr>
            		<title level="m">Optical Materials</title>
            		<title level="s">Handbook of Photonics</title>
            		<imprint><date type="published" when="1995" /></imprint>
            	</monogr>
            </biblStruct>
            """));

        var chapter = Assert.Single(references);
        Assert.Equal("Optical Materials", chapter.Title);
        Assert.Equal([new CitedAuthor("Maria", "Costa")], chapter.Authors);
        Assert.Null(chapter.Venue);
    }

    [Fact]
    public void A_meeting_name_is_the_venue_when_the_monogr_has_no_title_and_its_address_is_left_out()
    {
        var references = Parse(ListBibl("""
            <biblStruct>
            	<analytic><title level="a" type="main">Low-power sensor meshes</title></analytic>
            	<monogr>
            		<meeting>Workshop on Embedded Networks<address><addrLine>Lisbon</addrLine></address></meeting>
            		<imprint><date type="published" when="2009-05" /></imprint>
            	</monogr>
            </biblStruct>
            """));

        Assert.Equal("Workshop on Embedded Networks", Assert.Single(references).Venue);
    }

    [Fact]
    public void Proceedings_are_the_venue_of_a_paper_in_them()
    {
        var references = Parse(ListBibl("""
            <biblStruct>
            	<analytic><title level="a" type="main">Adaptive gait control</title></analytic>
            	<monogr>
            		<title level="m">Proceedings of the Robotics Symposium 2012</title>
            		<meeting><address><addrLine>Osaka</addrLine></address></meeting>
            	</monogr>
            </biblStruct>
            """));

        Assert.Equal("Proceedings of the Robotics Symposium 2012", Assert.Single(references).Venue);
    }

    [Fact]
    public void BiblStructs_in_a_fulltext_header_are_the_paper_itself_not_references()
    {
        const string fulltext = """
            <?xml version="1.0" encoding="UTF-8"?>
            <TEI xml:space="preserve" xmlns="http://www.tei-c.org/ns/1.0">
            	<teiHeader xml:lang="en">
            		<fileDesc>
            			<titleStmt><title level="a" type="main">The paper being read</title></titleStmt>
            			<sourceDesc>
            				<biblStruct>
            					<analytic>
            						<author><persName><forename type="first">Self</forename><surname>Author</surname></persName></author>
            						<title level="a" type="main">The paper being read</title>
            					</analytic>
            					<monogr><imprint><date type="published" when="2016-03-08">2016-03-08</date></imprint></monogr>
            				</biblStruct>
            			</sourceDesc>
            		</fileDesc>
            	</teiHeader>
            	<text xml:lang="en">
            		<body><div><p>Body text citing <ref type="bibr" target="#b0">[1]</ref>.</p></div></body>
            		<back>
            			<div type="references">
            				<listBibl>
            <biblStruct xml:id="b0">
            	<analytic><title level="a" type="main">A cited paper</title></analytic>
            	<monogr><title level="j">Some Journal</title><imprint/></monogr>
            </biblStruct>
            				</listBibl>
            			</div>
            		</back>
            	</text>
            </TEI>
            """;

        var reference = Assert.Single(Parse(fulltext));
        Assert.Equal("A cited paper", reference.Title);
    }

    [Fact]
    public void Elements_without_the_TEI_namespace_are_read_too()
    {
        var references = Parse("""
            <TEI><text><back><listBibl>
            <biblStruct>
            	<analytic><title level="a" type="main">No namespace here</title></analytic>
            	<monogr><imprint><biblScope type="volume">3</biblScope></imprint></monogr>
            </biblStruct>
            </listBibl></back></text></TEI>
            """);

        var reference = Assert.Single(references);
        Assert.Equal("No namespace here", reference.Title);
        Assert.Equal("3", reference.Volume); // the older type="volume" spelling
    }

    [Fact]
    public void A_reference_with_neither_title_raw_text_DOI_nor_arXiv_id_is_dropped()
    {
        var references = Parse(ListBibl("""
            <biblStruct>
            	<analytic><author><persName><surname>Nobody</surname></persName></author></analytic>
            	<monogr><title level="j">A Journal Name Is Not A Title</title><imprint><date when="2001" /></imprint></monogr>
            </biblStruct>
            <biblStruct><analytic><title level="a" type="main">   </title></analytic><monogr/></biblStruct>
            """));

        Assert.Empty(references);
    }

    [Fact]
    public void An_author_without_a_surname_is_skipped_and_one_without_forenames_has_no_first_name()
    {
        var references = Parse(ListBibl("""
            <biblStruct>
            	<analytic>
            		<title level="a" type="main">Collective authorship</title>
            		<author><persName><forename type="first">Only</forename></persName></author>
            		<author><affiliation><orgName>Some Institute</orgName></affiliation></author>
            		<author><persName><surname>Solo</surname></persName></author>
            		<author><persName><forename type="first">J</forename><surname>  </surname></persName></author>
            	</analytic>
            	<monogr/>
            </biblStruct>
            """));

        Assert.Equal([new CitedAuthor(null, "Solo")], Assert.Single(references).Authors);
    }

    [Theory]
    [InlineData("""<date type="published">Spring 1987</date>""", 1987)]
    [InlineData("""<date type="published" when="not-a-date">c. 1903</date>""", 1903)]
    [InlineData("""<date type="published" when="0999" />""", null)]
    [InlineData("""<date type="published" when="2150" />""", null)]
    [InlineData("""<date>in press 12345</date>""", null)]
    [InlineData("""<date>2004</date><date type="published" when="2005" />""", 2005)]
    [InlineData("", null)]
    public void The_year_comes_from_the_published_date_when_attribute_else_from_date_text(string dates, int? year)
    {
        var references = Parse(ListBibl($"""
            <biblStruct>
            	<analytic><title level="a" type="main">Dated</title></analytic>
            	<monogr><imprint>{dates}</imprint></monogr>
            </biblStruct>
            """));

        Assert.Equal(year, Assert.Single(references).Year);
    }

    [Fact]
    public void A_billion_laughs_document_is_refused()
    {
        const string attack = """
            <?xml version="1.0"?>
            <!DOCTYPE TEI [
              <!ENTITY lol "lol">
              <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
              <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
              <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
              <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
              <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
              <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
              <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
              <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
              <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
            ]>
            <TEI xmlns="http://www.tei-c.org/ns/1.0"><text><back><listBibl>
            <biblStruct><analytic><title level="a" type="main">&lol9;</title></analytic></biblStruct>
            </listBibl></back></text></TEI>
            """;

        Assert.Throws<TeiFormatException>(() => Parse(attack));
    }

    [Fact]
    public void An_external_entity_is_refused_and_never_read()
    {
        var secret = Path.Combine(Path.GetTempPath(), $"chive-tei-secret-{Guid.NewGuid():N}.txt");
        File.WriteAllText(secret, "do not read me");
        try
        {
            var attack = $"""
                <?xml version="1.0"?>
                <!DOCTYPE TEI [ <!ENTITY secret SYSTEM "file://{secret}"> ]>
                <TEI xmlns="http://www.tei-c.org/ns/1.0"><text><back><listBibl>
                <biblStruct><analytic><title level="a" type="main">&secret;</title></analytic></biblStruct>
                </listBibl></back></text></TEI>
                """;

            var error = Assert.Throws<TeiFormatException>(() => Parse(attack));
            Assert.DoesNotContain("do not read me", error.Message);
        }
        finally
        {
            File.Delete(secret);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("not xml at all")]
    [InlineData("<TEI xmlns=\"http://www.tei-c.org/ns/1.0\"><text><back><listBibl><biblStruct>")]
    [InlineData("<TEI><text></back></TEI>")]
    [InlineData("<TEI><listBibl><biblStruct><analytic><title a=\"1\" a=\"2\">x</title></analytic></biblStruct></listBibl></TEI>")]
    [InlineData("<TEI><listBibl><biblStruct><analytic><title>&undefined;</title></analytic></biblStruct></listBibl></TEI>")]
    [InlineData("<TEI></TEI><TEI></TEI>")]
    public void Malformed_XML_is_a_TeiFormatException(string xml)
    {
        var error = Assert.Throws<TeiFormatException>(() => Parse(xml));
        Assert.IsType<System.Xml.XmlException>(error.InnerException);
    }

    [Theory]
    [InlineData("<html><body>GROBID is loading</body></html>")]
    [InlineData("<TEI xmlns=\"urn:not-tei\"><listBibl/></TEI>")]
    [InlineData("<teiCorpus xmlns=\"http://www.tei-c.org/ns/1.0\"/>")]
    public void A_root_that_is_not_TEI_is_a_TeiFormatException(string xml)
    {
        Assert.Throws<TeiFormatException>(() => Parse(xml));
    }

    [Theory]
    [InlineData("<TEI xmlns=\"http://www.tei-c.org/ns/1.0\"><text><back><div><listBibl/></div></back></text></TEI>")]
    [InlineData("<TEI xmlns=\"http://www.tei-c.org/ns/1.0\"><text><back><div><listBibl>\n</listBibl></div></back></text></TEI>")]
    [InlineData("<TEI xmlns=\"http://www.tei-c.org/ns/1.0\"><teiHeader/><text><body/></text></TEI>")]
    public void An_empty_listBibl_or_none_at_all_gives_no_references(string xml)
    {
        Assert.Empty(Parse(xml));
    }

    [Fact]
    public void Only_the_first_maxReferences_are_returned()
    {
        var many = ListBibl(string.Concat(Enumerable.Range(0, 10).Select(i =>
            $"""<biblStruct><analytic><title level="a" type="main">Paper {i}</title></analytic></biblStruct>""")));

        Assert.Equal(["Paper 0", "Paper 1", "Paper 2"], Parse(many, maxReferences: 3).Select(r => r.Title));
        Assert.Empty(Parse(many, maxReferences: 0));
        Assert.Equal(10, Parse(many).Count);
    }

    [Fact]
    public void Reading_stops_at_the_limit_so_what_follows_is_not_parsed()
    {
        // GROBID sends the whole list at once; past the limit nothing more is read, not even a broken tail.
        var truncated = """
            <TEI xmlns="http://www.tei-c.org/ns/1.0"><text><back><listBibl>
            <biblStruct><analytic><title level="a" type="main">Kept</title></analytic></biblStruct>
            <biblStruct><analytic><title level="a" type="main">Never read
            """;

        Assert.Equal("Kept", Assert.Single(Parse(truncated, maxReferences: 1)).Title);
    }

    [Fact]
    public void Over_long_strings_and_author_lists_are_capped()
    {
        var longWord = new string('x', 10_000);
        var authors = string.Concat(Enumerable.Range(0, 120).Select(i =>
            $"<author><persName><forename>{longWord}</forename><surname>{longWord}{i}</surname></persName></author>"));
        var references = Parse(ListBibl($"""
            <biblStruct>
            	<analytic><title level="a" type="main">{longWord}</title>{authors}</analytic>
            	<monogr>
            		<title level="j">{longWord}</title>
            		<imprint>
            			<biblScope unit="volume">{longWord}</biblScope>
            			<biblScope unit="page" from="{longWord}" to="{longWord}" />
            		</imprint>
            	</monogr>
            	<note type="raw_reference">{longWord}</note>
            </biblStruct>
            """));

        var reference = Assert.Single(references);
        Assert.Equal(1000, reference.Title!.Length);
        Assert.Equal(4000, reference.RawText!.Length);
        Assert.Equal(500, reference.Venue!.Length);
        Assert.Equal(100, reference.Volume!.Length);
        Assert.Equal(100, reference.Pages!.Length);
        Assert.Equal(50, reference.Authors.Count);
        Assert.All(reference.Authors, a =>
        {
            Assert.Equal(200, a.FirstName!.Length);
            Assert.Equal(200, a.LastName.Length);
        });
    }

    [Fact]
    public void A_cap_never_splits_a_surrogate_pair()
    {
        // 999 letters then an emoji: the 1000-character cap falls inside the pair, so the emoji goes whole.
        var title = new string('a', 999) + "\U0001F600" + "tail";

        var reference = Assert.Single(Parse(ListBibl($"""<biblStruct><analytic><title level="a">{title}</title></analytic></biblStruct>""")));

        Assert.Equal(new string('a', 999), reference.Title);
    }

    [Fact]
    public void Markup_nested_a_few_levels_inside_a_reference_is_read()
    {
        var nested = string.Concat(Enumerable.Repeat("<hi>", 20)) + "styled title" + string.Concat(Enumerable.Repeat("</hi>", 20));

        var reference = Assert.Single(Parse(ListBibl($"""<biblStruct><analytic><title level="a">{nested}</title></analytic></biblStruct>""")));

        Assert.Equal("styled title", reference.Title);
    }

    [Fact]
    public void Markup_nested_deeply_inside_a_reference_is_refused_quickly()
    {
        // 100,000 levels: neither a stack overflow nor the quadratic time LINQ to XML takes to build such a tree.
        const int depth = 100_000;
        var nested = string.Concat(Enumerable.Repeat("<hi>", depth)) + "deep title" + string.Concat(Enumerable.Repeat("</hi>", depth));
        var started = System.Diagnostics.Stopwatch.StartNew();

        Assert.Throws<TeiFormatException>(() =>
            Parse(ListBibl($"""<biblStruct><analytic><title level="a">{nested}</title></analytic></biblStruct>""")));
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(5), $"took {started.Elapsed}");
    }

    [Fact]
    public void Markup_nested_deeply_outside_the_references_is_read_past_quickly()
    {
        const int depth = 100_000;
        var nested = string.Concat(Enumerable.Repeat("<div>", depth)) + string.Concat(Enumerable.Repeat("</div>", depth));
        var document = $"""
            <TEI xmlns="http://www.tei-c.org/ns/1.0"><text><body>{nested}</body><back><listBibl>
            <biblStruct><analytic><title level="a">After the body</title></analytic></biblStruct>
            </listBibl></back></text></TEI>
            """;
        var started = System.Diagnostics.Stopwatch.StartNew();

        Assert.Equal("After the body", Assert.Single(Parse(document)).Title);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(5), $"took {started.Elapsed}");
    }

    [Fact]
    public void A_document_larger_than_the_limit_is_refused()
    {
        var padding = new string(' ', 21 * 1024 * 1024);
        var huge = ListBibl($"""<biblStruct><analytic><title level="a">Big</title></analytic></biblStruct>{padding}""");

        Assert.Throws<TeiFormatException>(() => Parse(huge));
    }

    [Fact]
    public void The_callers_stream_is_left_open()
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(JournalArticles));

        TeiReferences.Parse(stream);

        Assert.True(stream.CanRead);
    }

    private static string ListBibl(string biblStructs) => $"""
        <TEI xmlns="http://www.tei-c.org/ns/1.0">
        	<teiHeader/>
        	<text><front/><body/><back><div><listBibl>
        {biblStructs}
        	</listBibl></div></back></text>
        </TEI>
        """;

    private static IReadOnlyList<ExtractedReference> Parse(string xml, int maxReferences = 2000)
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(xml));
        return TeiReferences.Parse(stream, maxReferences);
    }
}
