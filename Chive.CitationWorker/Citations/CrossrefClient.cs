using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Chive.CitationWorker.Extraction;
using Microsoft.Extensions.Options;

namespace Chive.CitationWorker.Citations;

/// <summary>
/// Crossref's REST API, <c>/works/{doi}</c> only, for references that have a DOI but no title, year or venue. The
/// contact address goes in the User-Agent (the polite pool); the pace and the concurrency are the lower of ours and what
/// Crossref announces in <c>x-rate-limit-limit</c> / <c>x-rate-limit-interval</c> and <c>x-concurrency-limit</c> on every
/// answer. Answers, and 404s as "not found", are cached for <c>CacheTtl</c>.
/// </summary>
public sealed class CrossrefClient
{
    public const string Service = "Crossref";

    // Before the first answer: the pool we expect to be in (Crossref's published limits from 2025-12-01).
    private const double PoliteRate = 10, PublicRate = 5;
    private const int PoliteConcurrency = 3, PublicConcurrency = 1;

    private readonly UpstreamClient _client;
    private readonly LookupCache _cache;
    private readonly CrossrefOptions _options;

    public CrossrefClient(IOptions<CrossrefOptions> options, LookupCache cache, TimeProvider time, ILogger<CrossrefClient> logger)
    {
        _options = options.Value;
        _cache = cache;
        var polite = !string.IsNullOrWhiteSpace(_options.Mailto);
        var gate = new UpstreamGate(
            Math.Min(_options.MaxRequestsPerSecond, polite ? PoliteRate : PublicRate),
            Math.Min(_options.MaxConcurrency, polite ? PoliteConcurrency : PublicConcurrency),
            time);
        var http = UpstreamClient.CreateHttpClient(new Uri(_options.BaseUrl.ToString().TrimEnd('/') + "/"), CitationUserAgent.Value(_options.Mailto));
        _client = new UpstreamClient(Service, CitationSources.Crossref, http, gate,
            new UpstreamClient.Policy(_options.RequestTimeout, _options.MaxAttempts, _options.MaxRetryAfter, _options.MaxResponseBytes), time, logger);
    }

    /// <summary>The work with DOI <paramref name="doi"/> (normalised), or null when Crossref does not know it.</summary>
    public async Task<CitedWork?> WorkAsync(string doi, LookupTally tally, CancellationToken cancellationToken)
    {
        var key = "crossref:" + doi;
        if (await _cache.GetAsync(key, cancellationToken) is { } cached)
        {
            tally.CacheHit();
            return cached.Answer is { } message ? Work(message) : null;
        }

        tally.CrossrefLookup();
        var path = "works/" + Uri.EscapeDataString(doi);
        var answer = await _client.SendAsync(() => new HttpRequestMessage(HttpMethod.Get, path), Observe, cancellationToken);
        if (answer.Status == HttpStatusCode.NotFound)
        {
            await _cache.SetAsync(key, null, _options.CacheTtl, cancellationToken);
            return null;
        }

        if (answer.Status != HttpStatusCode.OK)
        {
            throw new UpstreamException(Service, $"{path} answered {(int)answer.Status}");
        }

        JsonElement work;
        try
        {
            using var json = JsonDocument.Parse(answer.Body, UpstreamJson.Options);
            work = UpstreamJson.Obj(json.RootElement, "message")?.Clone()
                   ?? throw new UpstreamException(Service, $"{path} answered JSON without a 'message' object");
        }
        catch (JsonException ex)
        {
            throw new UpstreamException(Service, $"{path} answered something that is not JSON", ex);
        }

        // Only the fields we read are kept: a Crossref work carries its whole reference list (tens of KB).
        var kept = new Dictionary<string, JsonElement>();
        foreach (var field in new[] { "DOI", "title", "container-title", "published", "issued", "volume", "page", "author" })
        {
            if (work.TryGetProperty(field, out var value))
            {
                kept[field] = value;
            }
        }

        var compact = JsonSerializer.Serialize(kept);
        await _cache.SetAsync(key, compact, _options.CacheTtl, cancellationToken);
        return Work(work);
    }

    /// <summary>Slows to the pool's announced limits (never above ours).</summary>
    private void Observe(HttpResponseHeaders headers)
    {
        var limit = Header(headers, "x-rate-limit-limit");
        var interval = Header(headers, "x-rate-limit-interval") is { } text && text.EndsWith('s')
                       && double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds > 0
            ? seconds
            : 1;
        var concurrency = Header(headers, "x-concurrency-limit");
        if (limit is null && concurrency is null)
        {
            return;
        }

        var rate = limit is { } l && double.TryParse(l, NumberStyles.Float, CultureInfo.InvariantCulture, out var perInterval) && perInterval > 0
            ? Math.Min(_options.MaxRequestsPerSecond, perInterval / interval)
            : _client.Gate.RequestsPerSecond;
        var inFlight = concurrency is { } c && int.TryParse(c, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0
            ? Math.Min(_options.MaxConcurrency, n)
            : _client.Gate.Concurrency;
        _client.Gate.Adjust(rate, inFlight);
    }

    private static string? Header(HttpResponseHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) ? values.FirstOrDefault()?.Trim() : null;

    /// <summary>A Crossref work (the <c>message</c> of <c>/works/{doi}</c>, or what we cached of it).</summary>
    public static CitedWork Work(JsonElement work)
    {
        var authors = UpstreamJson.Array(work, "author")
            // A person has family (and given) names; an organisation only a name.
            .Select(a => UpstreamJson.Str(a, "family", 200) is { } family ? new CitedAuthor(UpstreamJson.Str(a, "given", 200), family)
                : UpstreamJson.Str(a, "name", 200) is { } name ? new CitedAuthor(null, name) : null)
            .OfType<CitedAuthor>()
            .Take(UpstreamJson.MaxAuthors)
            .ToList();
        return new CitedWork(
            UpstreamJson.FirstStr(work, "title"),
            Year(work, "published") ?? Year(work, "issued"),
            UpstreamJson.FirstStr(work, "container-title", 500),
            CitationIdentifiers.NormalizeDoi(UpstreamJson.Str(work, "DOI", UpstreamJson.MaxIdentifier)),
            ArxivId: null,
            authors,
            Volume: UpstreamJson.Str(work, "volume", 100),
            Pages: UpstreamJson.Str(work, "page", 100));
    }

    /// <summary><c>{"date-parts": [[2012, 3, 1]]}</c> → 2012.</summary>
    private static int? Year(JsonElement work, string property) =>
        UpstreamJson.Obj(work, property) is { } date
        && UpstreamJson.Array(date, "date-parts").FirstOrDefault() is { ValueKind: JsonValueKind.Array } parts
        && parts.EnumerateArray().FirstOrDefault() is { ValueKind: JsonValueKind.Number } year
        && year.TryGetInt32(out var value) && value is >= 1000 and <= 2100
            ? value
            : null;
}
