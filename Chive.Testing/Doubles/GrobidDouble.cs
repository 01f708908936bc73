using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Chive.Testing.Doubles;

/// <summary>
/// GROBID 0.8 as far as Chive uses it.
/// <list type="bullet">
/// <item><c>GET /api/isalive</c> answers <c>true</c> (text/plain), like the real service once its models are loaded.
/// Set <see cref="Alive"/> to false to simulate a GROBID still loading (it answers 503 then, as the real one does
/// while busy).</item>
/// <item><c>POST|PUT /api/processReferences</c>, multipart/form-data with the PDF in field <c>input</c>. The answer
/// is looked up by the SHA-256 of the uploaded bytes among the documents registered with <see cref="AddDocument"/>:
/// 200 <c>application/xml; charset=UTF-8</c> with the registered TEI, 204 with no body when the document has no
/// references (GROBID's answer when it found none), and 500 text/plain
/// <c>[BAD_INPUT_DATA] PDF to XML conversion failed…</c> for a PDF nobody registered (what GROBID says of a file
/// pdfalto cannot read). A request that is not multipart answers 415, one without <c>input</c> 400.</item>
/// <item>The engine pool of <c>grobid.yaml</c> (<c>concurrency: 10</c>): a document arriving while
/// <see cref="PoolSize"/> others are being processed answers 503 with no body at once, as GROBID does when no engine
/// is free within <c>poolMaxWait</c>. <see cref="ProcessingDelay"/> is the time each document holds an engine;
/// <see cref="BusyAnswers"/> answers the next N documents with 503 whatever the pool holds.</item>
/// </list>
/// Does not check: the PDF (it is never read, only hashed, so any bytes will do), <c>consolidateCitations</c> and
/// <c>includeRawCitations</c> (recorded in <see cref="Calls"/>, not applied: the TEI is returned as registered),
/// <c>Accept: application/x-bibtex</c> (always TEI), the other fields and routes (processFulltextDocument,
/// processCitation, version), the admin port, and <c>poolMaxWait</c> (a full pool refuses at once instead of
/// waiting up to a second).
/// </summary>
public sealed class GrobidDouble : HttpDouble
{
    private const string TeiNamespace = "http://www.tei-c.org/ns/1.0";

    private readonly ConcurrentDictionary<string, string?> _documents = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly List<GrobidCall> _calls = [];
    private int _inFlight;
    private int _maxInFlight;
    private int _answered503;
    private int _busyAnswers;

    public bool Alive { get; set; } = true;

    /// <summary>How many documents are processed at once; one more answers 503. GROBID's default is 10.</summary>
    public int PoolSize { get; set; } = 10;

    /// <summary>How long each document holds an engine of the pool before its answer.</summary>
    public TimeSpan ProcessingDelay { get; set; }

    /// <summary>The next N processReferences requests answer 503, as a GROBID busy with other clients does.</summary>
    public int BusyAnswers
    {
        get => Volatile.Read(ref _busyAnswers);
        set => Volatile.Write(ref _busyAnswers, value);
    }

    /// <summary>Every processReferences request, in the order they arrived.</summary>
    public IReadOnlyList<GrobidCall> Calls
    {
        get
        {
            lock (_gate)
            {
                return _calls.OrderBy(c => c.Elapsed).ToList();
            }
        }
    }

    /// <summary>The most documents that were being processed at the same time.</summary>
    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    /// <summary>How many processReferences requests were answered 503 (pool full or <see cref="BusyAnswers"/>).</summary>
    public int Answered503 => Volatile.Read(ref _answered503);

    public static async Task<GrobidDouble> StartNewAsync()
    {
        var server = new GrobidDouble();
        await server.StartAsync();
        return server;
    }

    /// <summary>
    /// Registers a document: a PDF with these bytes answers <paramref name="tei"/>, or 204 (no references found) when
    /// it is null. Build the TEI with <see cref="Tei"/> and <see cref="BiblStruct"/>, or pass any text.
    /// </summary>
    public void AddDocument(byte[] pdf, string? tei) => _documents[Sha256Hex(pdf)] = tei;

    public static string Sha256Hex(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    protected override void Map(WebApplication app)
    {
        app.MapGet("/api/isalive", () => Alive
            ? Results.Text("true", "text/plain")
            : Results.StatusCode(StatusCodes.Status503ServiceUnavailable));
        app.MapMethods("/api/processReferences", ["POST", "PUT"], (Func<HttpContext, Task<IResult>>)ProcessReferencesAsync);
    }

    private async Task<IResult> ProcessReferencesAsync(HttpContext context)
    {
        var arrived = Elapsed;
        var at = DateTimeOffset.UtcNow;
        if (!context.Request.HasFormContentType)
        {
            // Jersey refuses a body its @Consumes(multipart/form-data) resource cannot take before GROBID sees it.
            return Record(new GrobidCall(arrived, at, null, null, null, StatusCodes.Status415UnsupportedMediaType), Results.StatusCode(StatusCodes.Status415UnsupportedMediaType));
        }

        // The upload is read before an engine is taken, as Jersey parses the multipart body before the resource runs.
        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        var consolidate = FormValue(form, "consolidateCitations");
        var includeRaw = FormValue(form, "includeRawCitations");
        if (form.Files.GetFile("input") is not { } input)
        {
            return Record(new GrobidCall(arrived, at, null, consolidate, includeRaw, StatusCodes.Status400BadRequest), Results.Text("The input field is missing.", "text/plain", statusCode: StatusCodes.Status400BadRequest));
        }

        byte[] pdf;
        using (var buffer = new MemoryStream())
        {
            await input.CopyToAsync(buffer, context.RequestAborted);
            pdf = buffer.ToArray();
        }

        var sha = Sha256Hex(pdf);
        GrobidCall Call(int status) => new(arrived, at, sha, consolidate, includeRaw, status);

        if (TakeBusyAnswer() || !TryTakeEngine())
        {
            Interlocked.Increment(ref _answered503);
            return Record(Call(StatusCodes.Status503ServiceUnavailable), Results.StatusCode(StatusCodes.Status503ServiceUnavailable));
        }

        try
        {
            if (ProcessingDelay > TimeSpan.Zero)
            {
                await Task.Delay(ProcessingDelay, context.RequestAborted);
            }

            if (!_documents.TryGetValue(sha, out var tei))
            {
                return Record(Call(StatusCodes.Status500InternalServerError), Results.Text(
                    "[BAD_INPUT_DATA] PDF to XML conversion failed with error code: 1", "text/plain", statusCode: StatusCodes.Status500InternalServerError));
            }

            return tei is null
                ? Record(Call(StatusCodes.Status204NoContent), Results.NoContent())
                : Record(Call(StatusCodes.Status200OK), Results.Text(tei, "application/xml; charset=UTF-8"));
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private bool TakeBusyAnswer()
    {
        while (true)
        {
            var left = Volatile.Read(ref _busyAnswers);
            if (left <= 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _busyAnswers, left - 1, left) == left)
            {
                return true;
            }
        }
    }

    private bool TryTakeEngine()
    {
        var now = Interlocked.Increment(ref _inFlight);
        if (now > PoolSize)
        {
            Interlocked.Decrement(ref _inFlight);
            return false;
        }

        lock (_gate)
        {
            _maxInFlight = Math.Max(_maxInFlight, now);
        }

        return true;
    }

    private IResult Record(GrobidCall call, IResult result)
    {
        lock (_gate)
        {
            _calls.Add(call);
        }

        return result;
    }

    private static string? FormValue(IFormCollection form, string name) =>
        form.TryGetValue(name, out var value) ? value.ToString() : null;

    /// <summary>
    /// A processReferences body around these <c>biblStruct</c> elements: the fixed dummy header GROBID writes
    /// (<c>GrobidRestProcessFiles.processStatelessReferencesDocument</c>), character for character, so a parser
    /// tested here meets what the real service sends.
    /// </summary>
    public static string Tei(IEnumerable<string> biblStructs)
    {
        var tei = new StringBuilder();
        tei.Append($"<TEI xmlns=\"{TeiNamespace}\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" \n xmlns:mml=\"http://www.w3.org/1998/Math/MathML\">\n");
        tei.Append("\t<teiHeader/>\n\t<text>\n\t\t<front/>\n\t\t<body/>\n\t\t<back>\n\t\t\t<div>\n\t\t\t\t<listBibl>\n");
        foreach (var biblStruct in biblStructs)
        {
            tei.Append(biblStruct).Append('\n');
        }

        tei.Append("\t\t\t\t</listBibl>\n\t\t\t</div>\n\t\t</back>\n\t</text>\n</TEI>\n");
        return tei.ToString();
    }

    /// <summary>
    /// One reference as GROBID 0.8 writes it: <c>xml:id="b{n}"</c>; an <c>analytic</c> part (article title, authors,
    /// DOI and arXiv ids) when there is a title or an author; a <c>monogr</c> part with the journal title and an
    /// <c>imprint</c> (volume, pages, publication year); the raw citation text in <c>note type="raw_reference"</c>
    /// (what <c>includeRawCitations=1</c> adds). Absent values leave their element out, as GROBID does. Text is
    /// XML-escaped. <paramref name="arxiv"/> is written as given (GROBID keeps the <c>arXiv:</c> prefix it found).
    /// </summary>
    public static string BiblStruct(
        int n,
        string? title,
        IEnumerable<(string? first, string last)> authors,
        int? year,
        string? doi = null,
        string? arxiv = null,
        string? journal = null,
        string? volume = null,
        string? pagesFrom = null,
        string? pagesTo = null,
        string? raw = null)
    {
        var names = authors.ToList();
        var xml = new StringBuilder();
        xml.Append($"<biblStruct xml:id=\"b{n}\">\n");

        var ids = new StringBuilder();
        if (doi is not null)
        {
            ids.Append($"\t\t<idno type=\"DOI\">{Escape(doi)}</idno>\n");
        }

        if (arxiv is not null)
        {
            ids.Append($"\t\t<idno type=\"arXiv\">{Escape(arxiv)}</idno>\n");
        }

        var analytic = title is not null || names.Count > 0;
        if (analytic)
        {
            xml.Append("\t<analytic>\n");
            if (title is not null)
            {
                xml.Append($"\t\t<title level=\"a\" type=\"main\">{Escape(title)}</title>\n");
            }

            AppendAuthors(xml, names);
            xml.Append(ids);
            xml.Append("\t</analytic>\n");
        }

        xml.Append("\t<monogr>\n");
        if (!analytic)
        {
            // A reference with neither title nor authors keeps its identifiers in the only part it has.
            xml.Append(ids);
        }

        if (journal is not null)
        {
            xml.Append($"\t\t<title level=\"j\">{Escape(journal)}</title>\n");
        }

        var imprint = new StringBuilder();
        if (volume is not null)
        {
            imprint.Append($"\t\t\t<biblScope unit=\"volume\">{Escape(volume)}</biblScope>\n");
        }

        if (pagesFrom is not null || pagesTo is not null)
        {
            imprint.Append("\t\t\t<biblScope unit=\"page\"");
            if (pagesFrom is not null)
            {
                imprint.Append($" from=\"{Escape(pagesFrom)}\"");
            }

            if (pagesTo is not null)
            {
                imprint.Append($" to=\"{Escape(pagesTo)}\"");
            }

            imprint.Append(" />\n");
        }

        if (year is not null)
        {
            imprint.Append($"\t\t\t<date type=\"published\" when=\"{year}\" />\n");
        }

        xml.Append(imprint.Length == 0 ? "\t\t<imprint/>\n" : $"\t\t<imprint>\n{imprint}\t\t</imprint>\n");
        xml.Append("\t</monogr>\n");
        if (raw is not null)
        {
            xml.Append($"\t<note type=\"raw_reference\">{Escape(raw)}</note>\n");
        }

        xml.Append("</biblStruct>\n");
        return xml.ToString();
    }

    private static void AppendAuthors(StringBuilder xml, List<(string? first, string last)> names)
    {
        foreach (var (first, last) in names)
        {
            xml.Append("\t\t<author>\n\t\t\t<persName>");
            if (first is not null)
            {
                xml.Append($"<forename type=\"first\">{Escape(first)}</forename>");
            }

            xml.Append($"<surname>{Escape(last)}</surname></persName>\n\t\t</author>\n");
        }
    }

    /// <summary>Escapes text and attribute values alike (GROBID writes <c>&amp;apos;</c> too).</summary>
    private static string Escape(string text) => text
        .Replace("&", "&amp;", StringComparison.Ordinal)
        .Replace("<", "&lt;", StringComparison.Ordinal)
        .Replace(">", "&gt;", StringComparison.Ordinal)
        .Replace("\"", "&quot;", StringComparison.Ordinal)
        .Replace("'", "&apos;", StringComparison.Ordinal);
}

/// <summary>
/// One processReferences request: when it arrived (<paramref name="Elapsed"/> on the double's monotonic clock, and
/// wall time), the SHA-256 of its <c>input</c> (null when there was none), the form fields as sent (null when
/// absent) and the status answered.
/// </summary>
public sealed record GrobidCall(
    TimeSpan Elapsed,
    DateTimeOffset At,
    string? Sha256,
    string? ConsolidateCitations,
    string? IncludeRawCitations,
    int Status);
