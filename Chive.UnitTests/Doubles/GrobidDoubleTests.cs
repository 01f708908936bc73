using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Xml.Linq;
using Chive.Testing.Doubles;

namespace Chive.UnitTests.Doubles;

/// <summary>
/// The GROBID double answers processReferences as GROBID does: TEI for a known PDF, 204 when it has no references,
/// 500 for a PDF it cannot read, and 503 when its engine pool is full or it is told to be busy.
/// </summary>
public sealed class GrobidDoubleTests : IAsyncLifetime
{
    private static readonly XNamespace Tei = "http://www.tei-c.org/ns/1.0";
    private GrobidDouble _grobid = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _grobid = await GrobidDouble.StartNewAsync();
        _http = new HttpClient { BaseAddress = _grobid.BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _grobid.DisposeAsync();
    }

    [Fact]
    public async Task A_registered_pdf_answers_its_TEI_and_the_form_fields_are_recorded()
    {
        var pdf = Pdf("one");
        _grobid.AddDocument(pdf, GrobidDouble.Tei(
        [
            GrobidDouble.BiblStruct(0, "Fish & <Chips>", [("A", "O'Neil"), (null, "Smith")], 2002, doi: "10.1234/ABC", arxiv: "arXiv:2101.00001",
                journal: "J. Food", volume: "22", pagesFrom: "1148", pagesTo: "1161", raw: "O'Neil A, Smith. Fish & <Chips>. 2002."),
            GrobidDouble.BiblStruct(1, null, [], null),
        ]));

        using var response = await _http.PostAsync("api/processReferences", Form(pdf, consolidate: "1"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/xml", response.Content.Headers.ContentType?.MediaType);
        var tei = XDocument.Parse(await response.Content.ReadAsStringAsync());
        var bibl = tei.Descendants(Tei + "listBibl").Elements(Tei + "biblStruct").ToList();
        Assert.Equal(["b0", "b1"], bibl.Select(b => (string?)b.Attribute(XNamespace.Xml + "id")));
        var first = bibl[0];
        Assert.Equal("Fish & <Chips>", first.Element(Tei + "analytic")!.Elements(Tei + "title").Single(t => (string?)t.Attribute("level") == "a").Value);
        Assert.Equal(["O'Neil", "Smith"], first.Descendants(Tei + "surname").Select(s => s.Value));
        Assert.Equal("A", first.Descendants(Tei + "forename").Single(f => (string?)f.Attribute("type") == "first").Value);
        Assert.Equal("10.1234/ABC", first.Descendants(Tei + "idno").Single(i => (string?)i.Attribute("type") == "DOI").Value);
        Assert.Equal("arXiv:2101.00001", first.Descendants(Tei + "idno").Single(i => (string?)i.Attribute("type") == "arXiv").Value);
        Assert.Equal("J. Food", first.Element(Tei + "monogr")!.Elements(Tei + "title").Single(t => (string?)t.Attribute("level") == "j").Value);
        var page = first.Descendants(Tei + "biblScope").Single(s => (string?)s.Attribute("unit") == "page");
        Assert.Equal(("1148", "1161"), ((string?)page.Attribute("from"), (string?)page.Attribute("to")));
        Assert.Equal("2002", (string?)first.Descendants(Tei + "date").Single().Attribute("when"));
        Assert.Equal("O'Neil A, Smith. Fish & <Chips>. 2002.", first.Elements(Tei + "note").Single(n => (string?)n.Attribute("type") == "raw_reference").Value);

        var call = Assert.Single(_grobid.Calls);
        Assert.Equal((GrobidDouble.Sha256Hex(pdf), "1", "1", 200), (call.Sha256, call.ConsolidateCitations, call.IncludeRawCitations, call.Status));
    }

    [Fact]
    public async Task A_document_without_references_answers_204_and_an_unknown_pdf_500_text()
    {
        _grobid.AddDocument(Pdf("empty"), null);

        using var empty = await _http.PostAsync("api/processReferences", Form(Pdf("empty")));
        using var unknown = await _http.PostAsync("api/processReferences", Form(Pdf("never registered")));

        Assert.Equal(HttpStatusCode.NoContent, empty.StatusCode);
        Assert.Empty(await empty.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.InternalServerError, unknown.StatusCode);
        Assert.Equal("text/plain", unknown.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("[BAD_INPUT_DATA]", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_document_arriving_while_the_pool_is_full_answers_503_at_once()
    {
        _grobid.PoolSize = 1;
        _grobid.ProcessingDelay = TimeSpan.FromSeconds(3);
        _grobid.AddDocument(Pdf("slow"), null);

        async Task<HttpStatusCode> SendAsync()
        {
            using var response = await _http.PostAsync("api/processReferences", Form(Pdf("slow")));
            return response.StatusCode;
        }

        // The second document is sent once the first holds the pool's only thread (on a loaded machine, sending both at
        // once could let the first finish before the second arrives).
        var first = SendAsync();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (_grobid.MaxInFlight == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        var second = await SendAsync();

        Assert.Equal((HttpStatusCode.NoContent, HttpStatusCode.ServiceUnavailable), (await first, second));
        Assert.Equal(1, _grobid.MaxInFlight);
        Assert.Equal(1, _grobid.Answered503);
    }

    [Fact]
    public async Task Busy_answers_come_before_the_document_is_processed()
    {
        _grobid.BusyAnswers = 2;
        _grobid.AddDocument(Pdf("busy"), null);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await _http.PostAsync("api/processReferences", Form(Pdf("busy")));
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.ServiceUnavailable, HttpStatusCode.ServiceUnavailable, HttpStatusCode.NoContent], statuses);
        Assert.Equal([503, 503, 204], _grobid.Calls.Select(c => c.Status));
        Assert.Equal(2, _grobid.Answered503);
    }

    [Fact]
    public async Task Isalive_still_answers_true()
    {
        Assert.Equal("true", await _http.GetStringAsync("api/isalive"));
    }

    private static byte[] Pdf(string name) => Encoding.UTF8.GetBytes($"%PDF-1.4 {name}");

    private static MultipartFormDataContent Form(byte[] pdf, string consolidate = "0")
    {
        var file = new ByteArrayContent(pdf);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/pdf");
        return new MultipartFormDataContent
        {
            { file, "input", "paper.pdf" },
            { new StringContent(consolidate), "consolidateCitations" },
            { new StringContent("1"), "includeRawCitations" },
        };
    }
}
