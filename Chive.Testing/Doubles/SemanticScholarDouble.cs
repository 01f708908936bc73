using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Chive.Testing.Doubles;

/// <summary>
/// The Semantic Scholar Graph API (<c>/graph/v1</c>) as far as Chive uses it, in memory.
/// <list type="bullet">
/// <item><c>GET /graph/v1/paper/{id}/references?offset=&amp;limit=</c>: the cited papers registered with
/// <see cref="AddReferences"/>, one page at a time: <c>{offset, next, data:[{citedPaper, isInfluential, contexts,
/// intents, contextsWithIntent}]}</c>, <c>next</c> absent on the last page. <c>limit</c> defaults to 100; above 1000,
/// or a negative offset, answers 400 <c>{"error": …}</c>. An unknown paper answers 404
/// <c>{"error":"Paper with id X not found"}</c>.</item>
/// <item><c>GET /graph/v1/paper/{id}</c>: a paper registered with <see cref="AddPaper"/>, or the same 404.</item>
/// <item><c>POST /graph/v1/paper/batch</c> with <c>{"ids":[…]}</c>: a JSON array in the order asked, <c>null</c> for an
/// unknown id; more than 500 ids answers 400.</item>
/// </list>
/// Ids: <c>DOI:x</c> or a bare DOI (<c>10.…</c>), matched without regard to case; <c>CorpusId:n</c> (prefix in any
/// case), <c>ARXIV:x</c> and a paperId as written. The DOI in a path may have its slash bare or escaped. A paper
/// registered with <see cref="AddPaper"/> is also found by its own <c>paperId</c> and <c>externalIds</c> (DOI, ArXiv,
/// CorpusId), as on the real service; references are found by the id given to <see cref="AddReferences"/> only (a
/// paper known from <see cref="AddPaper"/> alone cites nothing).
/// <para>
/// Limits, enforced on every request in this order: with <see cref="RequiredApiKey"/> set, a request without that
/// <c>x-api-key</c> answers 403 <c>{"message":"Forbidden"}</c>; <see cref="ForceTooManyRequests"/> answers the next N
/// requests 429; a request that comes less than 1/<see cref="RatePerSecond"/> (minus <see cref="RateTolerance"/>)
/// after the last accepted one answers 429. Every 429 carries <c>Retry-After</c> (<see cref="RetryAfterSeconds"/>) and
/// S2's body; a request that arrives before a Retry-After it was given has elapsed is counted in
/// <see cref="RetryAfterViolations"/> (and then judged by the rate like any other).
/// </para>
/// Does not check: the <c>fields</c> parameter (ignored: every registered field is returned, so a client that forgets
/// to ask for a field it reads still passes here), per-key or per-endpoint limits (one rate for the whole double), the
/// 10 MB / 9999-citation batch caps, <c>offset + limit</c> caps, citations, authors, search and recommendations
/// routes, and other id kinds (MAG, ACL, PMID, URL).
/// </summary>
public sealed class SemanticScholarDouble : HttpDouble
{
    private const string TooManyRequestsMessage = "Too Many Requests. Please wait and try again or apply for a key for higher rate limits.";
    private const int MaxLimit = 1000;
    private const int MaxBatchIds = 500;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, JsonObject> _papers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<JsonObject>> _references = new(StringComparer.Ordinal);
    private readonly List<S2Call> _calls = [];
    private TimeSpan? _lastAccepted;
    private TimeSpan _retryAfterUntil = TimeSpan.Zero;
    private int _forceTooManyRequests;
    private int _tooEarly429;
    private int _forced429;
    private int _retryAfterViolations;

    /// <summary>Accepted requests per second (positive); <see cref="double.PositiveInfinity"/> turns the limit off.</summary>
    public double RatePerSecond { get; set; } = 1;

    /// <summary>How much earlier than 1/<see cref="RatePerSecond"/> a request may come, for clock jitter.</summary>
    public TimeSpan RateTolerance { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>The <c>Retry-After</c> value (whole seconds) of every 429.</summary>
    public int RetryAfterSeconds { get; set; } = 1;

    /// <summary>When set, requests must carry this <c>x-api-key</c>, or they answer 403.</summary>
    public string? RequiredApiKey { get; set; }

    /// <summary>The next N requests answer 429 with <c>Retry-After</c>, however they are paced.</summary>
    public int ForceTooManyRequests
    {
        get
        {
            lock (_gate)
            {
                return _forceTooManyRequests;
            }
        }

        set
        {
            lock (_gate)
            {
                _forceTooManyRequests = value;
            }
        }
    }

    /// <summary>Every request, in the order it arrived.</summary>
    public IReadOnlyList<S2Call> Calls
    {
        get
        {
            lock (_gate)
            {
                return _calls.OrderBy(c => c.Elapsed).ToList();
            }
        }
    }

    /// <summary>429s answered because the request came sooner than the rate allows.</summary>
    public int TooEarly429
    {
        get
        {
            lock (_gate)
            {
                return _tooEarly429;
            }
        }
    }

    /// <summary>429s answered because of <see cref="ForceTooManyRequests"/>.</summary>
    public int Forced429
    {
        get
        {
            lock (_gate)
            {
                return _forced429;
            }
        }
    }

    /// <summary>Requests that arrived before the <c>Retry-After</c> of an earlier 429 had elapsed.</summary>
    public int RetryAfterViolations
    {
        get
        {
            lock (_gate)
            {
                return _retryAfterViolations;
            }
        }
    }

    public static async Task<SemanticScholarDouble> StartNewAsync()
    {
        var server = new SemanticScholarDouble();
        await server.StartAsync();
        return server;
    }

    /// <summary>Registers a paper for <c>GET /paper/{id}</c> and <c>POST /paper/batch</c>.</summary>
    public void AddPaper(string id, JsonObject paper)
    {
        lock (_gate)
        {
            foreach (var key in PaperKeys(id, paper))
            {
                _papers[key] = (JsonObject)paper.DeepClone();
            }
        }
    }

    /// <summary>Registers the papers <paramref name="id"/> cites, in order, for <c>GET /paper/{id}/references</c>.</summary>
    public void AddReferences(string id, IReadOnlyList<JsonObject> citedPapers)
    {
        lock (_gate)
        {
            _references[Key(id)] = citedPapers.Select(p => (JsonObject)p.DeepClone()).ToList();
        }
    }

    /// <summary>
    /// A paper as the Graph API returns it: <c>{paperId, externalIds, title, year, venue, authors}</c>. As in the
    /// real answers, <c>externalIds</c> holds only the ids known (<c>DOI</c>, <c>ArXiv</c>); <c>paperId</c> and
    /// <c>year</c> are null when unknown (an unresolved reference has <c>paperId: null</c>), <c>venue</c> is <c>""</c>
    /// when unknown, and each author gets a made-up <c>authorId</c>, the same for the same name.
    /// </summary>
    public static JsonObject Paper(
        string? paperId,
        string? title,
        int? year,
        string? doi = null,
        string? arxiv = null,
        string? venue = null,
        IEnumerable<string>? authors = null)
    {
        var externalIds = new JsonObject();
        if (doi is not null)
        {
            externalIds["DOI"] = doi;
        }

        if (arxiv is not null)
        {
            externalIds["ArXiv"] = arxiv;
        }

        var authorList = new JsonArray();
        foreach (var name in authors ?? [])
        {
            // Stable per name (FNV-1a), so one author keeps one id across papers, as on S2.
            var authorId = name.Aggregate(2166136261u, (hash, c) => unchecked((hash ^ c) * 16777619u));
            authorList.Add(new JsonObject { ["authorId"] = authorId.ToString(CultureInfo.InvariantCulture), ["name"] = name });
        }

        return new JsonObject
        {
            ["paperId"] = paperId,
            ["externalIds"] = externalIds,
            ["title"] = title,
            ["year"] = year,
            ["venue"] = venue ?? "",
            ["authors"] = authorList,
        };
    }

    protected override void Map(WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            var arrived = Elapsed;
            var at = DateTimeOffset.UtcNow;
            var apiKey = context.Request.Headers["x-api-key"].FirstOrDefault();
            var refusal = Admit(apiKey);
            if (refusal is not null)
            {
                await refusal.ExecuteAsync(context);
            }
            else
            {
                await next(context);
            }

            var pathAndQuery = context.Request.Path.Value + context.Request.QueryString.Value;
            lock (_gate)
            {
                _calls.Add(new S2Call(arrived, at, context.Request.Method, pathAndQuery, apiKey, context.Response.StatusCode));
            }
        });

        app.MapPost("/graph/v1/paper/batch", (Func<HttpContext, Task<IResult>>)BatchAsync);
        app.MapGet("/graph/v1/paper/{**rest}", (HttpContext context) =>
        {
            var id = Uri.UnescapeDataString(RawPath(context)["/graph/v1/paper/".Length..]);
            return id.EndsWith("/references", StringComparison.Ordinal)
                ? References(id[..^"/references".Length], context.Request.Query)
                : PaperById(id);
        });
    }

    /// <summary>The gateway's checks, in the real order (the key first, then its rate); null lets the request in.</summary>
    private IResult? Admit(string? apiKey)
    {
        if (RequiredApiKey is { } required && apiKey != required)
        {
            return Results.Json(new JsonObject { ["message"] = "Forbidden" }, statusCode: StatusCodes.Status403Forbidden);
        }

        lock (_gate)
        {
            // Read under the gate so that accepted requests are ordered as their times are.
            var now = Elapsed;
            if (now < _retryAfterUntil - RateTolerance)
            {
                _retryAfterViolations++;
            }

            if (_forceTooManyRequests > 0)
            {
                _forceTooManyRequests--;
                _forced429++;
                return TooManyRequests(now);
            }

            var interval = double.IsPositiveInfinity(RatePerSecond) ? TimeSpan.Zero : TimeSpan.FromSeconds(1 / RatePerSecond);
            if (_lastAccepted is { } last && now - last < interval - RateTolerance)
            {
                _tooEarly429++;
                return TooManyRequests(now);
            }

            _lastAccepted = now;
            return null;
        }
    }

    private IResult TooManyRequests(TimeSpan now)
    {
        var until = now + TimeSpan.FromSeconds(RetryAfterSeconds);
        if (until > _retryAfterUntil)
        {
            _retryAfterUntil = until;
        }

        return new TooManyRequestsResult(RetryAfterSeconds);
    }

    private IResult References(string id, IQueryCollection query)
    {
        if (!TryReadInt(query, "offset", 0, out var offset) || offset < 0)
        {
            return Error(400, "Unacceptable query params: offset must be a non-negative integer");
        }

        if (!TryReadInt(query, "limit", 100, out var limit) || limit < 0 || limit > MaxLimit)
        {
            return Error(400, $"Unacceptable query params: limit must be <= {MaxLimit}");
        }

        List<JsonObject>? cited;
        lock (_gate)
        {
            // A paper the double knows but whose references nobody registered cites nothing, as on S2.
            cited = _references.GetValueOrDefault(Key(id)) ?? (_papers.ContainsKey(Key(id)) ? [] : null);
        }

        if (cited is null)
        {
            return Error(404, $"Paper with id {id} not found");
        }

        var page = cited.Skip(offset).Take(limit).ToList();
        var answer = new JsonObject { ["offset"] = offset };
        if (offset + page.Count < cited.Count)
        {
            answer["next"] = offset + page.Count;
        }

        answer["data"] = new JsonArray(page.Select(p => (JsonNode)new JsonObject
        {
            ["citedPaper"] = p.DeepClone(),
            ["isInfluential"] = false,
            ["contexts"] = new JsonArray(),
            ["intents"] = new JsonArray(),
            ["contextsWithIntent"] = new JsonArray(),
        }).ToArray());
        return Results.Json(answer);
    }

    private IResult PaperById(string id)
    {
        lock (_gate)
        {
            return _papers.TryGetValue(Key(id), out var paper)
                ? Results.Json(paper.DeepClone())
                : Error(404, $"Paper with id {id} not found");
        }
    }

    private async Task<IResult> BatchAsync(HttpContext context)
    {
        JsonArray? ids;
        try
        {
            ids = (await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted))?["ids"] as JsonArray;
        }
        catch (JsonException)
        {
            ids = null;
        }

        if (ids is null || ids.Any(i => i?.GetValueKind() != JsonValueKind.String))
        {
            return Error(400, "Unacceptable request body: expected {\"ids\": [string, ...]}");
        }

        if (ids.Count > MaxBatchIds)
        {
            return Error(400, $"Too many ids: {ids.Count} (at most {MaxBatchIds} per request)");
        }

        lock (_gate)
        {
            return Results.Json(new JsonArray(ids
                .Select(i => _papers.TryGetValue(Key(i!.GetValue<string>()), out var paper) ? paper.DeepClone() : null)
                .ToArray()));
        }
    }

    /// <summary>The ids a registered paper answers to: the one it was registered under and those it carries.</summary>
    private static IEnumerable<string> PaperKeys(string id, JsonObject paper)
    {
        yield return Key(id);
        if (paper["paperId"] is JsonValue paperId && paperId.GetValueKind() == JsonValueKind.String)
        {
            yield return Key(paperId.GetValue<string>());
        }

        if (paper["externalIds"] is JsonObject external)
        {
            foreach (var (kind, prefix) in new[] { ("DOI", "DOI:"), ("ArXiv", "ARXIV:"), ("CorpusId", "CorpusId:") })
            {
                if (external[kind] is JsonValue value)
                {
                    yield return Key(prefix + value.ToString());
                }
            }
        }
    }

    /// <summary>
    /// One spelling per paper id: the prefix in lower case, a DOI (prefixed or bare) in lower case as DOIs are
    /// case-insensitive, anything else as written.
    /// </summary>
    private static string Key(string id)
    {
        var colon = id.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return id.StartsWith("10.", StringComparison.Ordinal) ? "doi:" + id.ToLowerInvariant() : id;
        }

        var prefix = id[..colon].ToLowerInvariant();
        var value = id[(colon + 1)..];
        return prefix is "doi" or "arxiv" ? $"{prefix}:{value.ToLowerInvariant()}" : $"{prefix}:{value}";
    }

    private static bool TryReadInt(IQueryCollection query, string name, int fallback, out int value)
    {
        var text = query[name].FirstOrDefault();
        if (string.IsNullOrEmpty(text))
        {
            value = fallback;
            return true;
        }

        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out value);
    }

    private static IResult Error(int status, string message) =>
        Results.Json(new JsonObject { ["error"] = message }, statusCode: status);

    /// <summary>S2's 429: its JSON body and a whole-second <c>Retry-After</c>.</summary>
    private sealed class TooManyRequestsResult(int retryAfterSeconds) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.RetryAfter = retryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            return Results.Json(new JsonObject { ["message"] = TooManyRequestsMessage, ["code"] = "429" }, statusCode: StatusCodes.Status429TooManyRequests)
                .ExecuteAsync(httpContext);
        }
    }
}

/// <summary>
/// One request to the Semantic Scholar double: when it arrived (<paramref name="Elapsed"/> on the double's monotonic
/// clock, and wall time), its method, path and query, the <c>x-api-key</c> it carried (null when none) and the status
/// answered.
/// </summary>
public sealed record S2Call(TimeSpan Elapsed, DateTimeOffset At, string Method, string PathAndQuery, string? ApiKey, int Status);
