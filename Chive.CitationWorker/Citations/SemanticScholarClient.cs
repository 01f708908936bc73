using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Chive.CitationWorker.Extraction;
using Microsoft.Extensions.Options;

namespace Chive.CitationWorker.Citations;

/// <summary>
/// Semantic Scholar's Graph API: an eprint's whole reference list (<c>/paper/{id}/references</c>, every page, following
/// <c>next</c>) and the papers behind DOIs (<c>POST /paper/batch</c>, at most 500 ids a call; a <c>null</c> in the answer is
/// an id S2 does not know). Paced by one <see cref="UpstreamGate"/> for the whole worker (<c>RequestsPerSecond</c>), the
/// API key in <c>x-api-key</c> when configured, answers cached in PostgreSQL for <c>CacheTtl</c> — "not found" too.
/// </summary>
public sealed class SemanticScholarClient
{
    public const string Service = "Semantic Scholar";
    public const int MaxBatchIds = 500;
    private const string PaperFields = "title,year,venue,externalIds,authors";

    private readonly UpstreamClient _client;
    private readonly LookupCache _cache;
    private readonly SemanticScholarOptions _options;

    public SemanticScholarClient(IOptions<SemanticScholarOptions> options, LookupCache cache, TimeProvider time, ILogger<SemanticScholarClient> logger)
    {
        _options = options.Value;
        _cache = cache;
        var baseUrl = new Uri(_options.BaseUrl.ToString().TrimEnd('/') + "/");
        var http = UpstreamClient.CreateHttpClient(baseUrl, CitationUserAgent.Value(null));
        if (!string.IsNullOrEmpty(_options.ApiKey))
        {
            http.DefaultRequestHeaders.TryAddWithoutValidation("x-api-key", _options.ApiKey);
        }

        _client = new UpstreamClient(Service, CitationSources.SemanticScholar, http, new UpstreamGate(_options.RequestsPerSecond, _options.Concurrency, time, _options.PacingMargin),
            new UpstreamClient.Policy(_options.RequestTimeout, _options.MaxAttempts, _options.MaxRetryAfter, _options.MaxResponseBytes), time, logger);
    }

    /// <summary>
    /// The works <paramref name="paperId"/> cites (<c>DOI:…</c>, <c>CorpusId:…</c> or S2's own id), or null when S2 does
    /// not know the paper. Unresolved references (no <c>paperId</c>) are kept when they have a title.
    /// </summary>
    public async Task<IReadOnlyList<CitedWork>?> ReferencesAsync(string paperId, LookupTally tally, CancellationToken cancellationToken)
    {
        var key = "s2-refs:" + paperId;
        if (await _cache.GetAsync(key, cancellationToken) is { } cached)
        {
            tally.CacheHit();
            if (cached.Answer is not { } answer)
            {
                tally.S2Unknown();
                return null;
            }

            return answer.EnumerateArray().Select(Reference).OfType<CitedWork>().ToList();
        }

        var references = new JsonArray();
        int? offset = 0;
        for (var page = 0; offset is { } from && page < _options.MaxPages; page++)
        {
            tally.S2Lookup();
            var path = $"paper/{Uri.EscapeDataString(paperId)}/references?fields={PaperFields},isInfluential&offset={from}&limit={_options.PageSize}";
            var answer = await _client.SendAsync(() => new HttpRequestMessage(HttpMethod.Get, path), null, cancellationToken);
            if (answer.Status == HttpStatusCode.NotFound)
            {
                tally.S2Unknown();
                await _cache.SetAsync(key, null, _options.CacheTtl, cancellationToken);
                return null;
            }

            using var json = Parse(answer, path);
            foreach (var item in UpstreamJson.Array(json.RootElement, "data"))
            {
                references.Add(JsonNode.Parse(item.GetRawText()));
            }

            // The next offset must move forward, or a hostile or broken answer would have us read the same page for ever.
            offset = json.RootElement.TryGetProperty("next", out var next) && next.ValueKind == JsonValueKind.Number
                     && next.TryGetInt32(out var n) && n > from
                ? n
                : null;
        }

        await _cache.SetAsync(key, references.ToJsonString(), _options.CacheTtl, cancellationToken);
        using var stored = JsonDocument.Parse(references.ToJsonString());
        return stored.RootElement.EnumerateArray().Select(Reference).OfType<CitedWork>().ToList();
    }

    /// <summary>The works behind DOIs (normalised), from the cache or in batches of at most 500; an unknown DOI maps to null.</summary>
    public async Task<Dictionary<string, CitedWork?>> PapersByDoiAsync(IReadOnlyCollection<string> dois, LookupTally tally, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, CitedWork?>(StringComparer.Ordinal);
        var keys = dois.Distinct(StringComparer.Ordinal).ToDictionary(d => "s2-paper:DOI:" + d, d => d, StringComparer.Ordinal);
        foreach (var (key, entry) in await _cache.GetAsync(keys.Keys, cancellationToken))
        {
            result[keys[key]] = entry.Answer is { } paper ? Paper(paper, isInfluential: false) : null;
            tally.CacheHit();
        }

        foreach (var batch in keys.Values.Where(d => !result.ContainsKey(d)).Chunk(MaxBatchIds))
        {
            tally.S2Lookup();
            var path = $"paper/batch?fields={PaperFields}";
            var body = new JsonObject { ["ids"] = new JsonArray(batch.Select(d => (JsonNode)("DOI:" + d)).ToArray()) };
            var answer = await _client.SendAsync(() => new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) }, null, cancellationToken);
            using var json = Parse(answer, path);
            var papers = json.RootElement.ValueKind == JsonValueKind.Array ? json.RootElement.EnumerateArray().ToList() : null;
            if (papers is null || papers.Count != batch.Length)
            {
                // The answer must be one entry per id, in order; anything else cannot be matched to the ids.
                throw new UpstreamException(Service, $"{path} answered {papers?.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no array"} entries for {batch.Length} ids");
            }

            var store = new List<KeyValuePair<string, string?>>();
            for (var i = 0; i < batch.Length; i++)
            {
                var known = papers[i].ValueKind == JsonValueKind.Object;
                result[batch[i]] = known ? Paper(papers[i], isInfluential: false) : null;
                store.Add(new("s2-paper:DOI:" + batch[i], known ? papers[i].GetRawText() : null));
            }

            await _cache.SetAsync(store, _options.CacheTtl, cancellationToken);
        }

        return result;
    }

    private static JsonDocument Parse(UpstreamAnswer answer, string path)
    {
        if (answer.Status != HttpStatusCode.OK)
        {
            throw new UpstreamException(Service, $"{path} answered {(int)answer.Status}");
        }

        try
        {
            return JsonDocument.Parse(answer.Body, UpstreamJson.Options);
        }
        catch (JsonException ex)
        {
            throw new UpstreamException(Service, $"{path} answered something that is not JSON", ex);
        }
    }

    private static CitedWork? Reference(JsonElement item) =>
        UpstreamJson.Obj(item, "citedPaper") is { } paper ? Paper(paper, UpstreamJson.Bool(item, "isInfluential")) : null;

    /// <summary>A paper object; null when it names nothing we could cite (no title and no identifier).</summary>
    public static CitedWork? Paper(JsonElement paper, bool isInfluential)
    {
        var ids = UpstreamJson.Obj(paper, "externalIds");
        var doi = ids is { } d ? CitationIdentifiers.NormalizeDoi(UpstreamJson.Str(d, "DOI", UpstreamJson.MaxIdentifier)) : null;
        var arxiv = ids is { } a ? CitationIdentifiers.NormalizeArxiv(UpstreamJson.Str(a, "ArXiv", UpstreamJson.MaxIdentifier)) : null;
        var title = UpstreamJson.Str(paper, "title");
        if (title is null && doi is null && arxiv is null)
        {
            return null;
        }

        var authors = UpstreamJson.Array(paper, "authors")
            .Select(author => UpstreamJson.SplitName(UpstreamJson.Str(author, "name", 200)))
            .OfType<CitedAuthor>()
            .Take(UpstreamJson.MaxAuthors)
            .ToList();
        return new CitedWork(title, UpstreamJson.Year(paper, "year"), UpstreamJson.Str(paper, "venue", 500), doi, arxiv, authors, IsInfluential: isInfluential);
    }
}
