using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Chive.Testing.Doubles;

/// <summary>
/// The Crossref REST API as far as Chive uses it: <c>GET /works/{doi}</c>, in memory. A work registered with
/// <see cref="AddWork"/> answers 200 <c>{"status":"ok","message-type":"work","message-version":"1.0.0","message":…}</c>;
/// an unknown DOI answers 404 text/plain <c>Resource not found.</c> The DOI in the path may have its slash bare (as
/// habanero sends it) or escaped, and is matched without regard to case.
/// <para>
/// The pools of the real service (limits from December 2025, as the June 2026 headers show): a request whose
/// User-Agent contains <c>mailto:</c> (or with a <c>mailto</c> query parameter) is in the <c>polite</c> pool
/// (<see cref="PoliteRate"/> 10 a second, <see cref="PoliteConcurrency"/> 3 at once), any other in <c>public</c>
/// (<see cref="PublicRate"/> 5, <see cref="PublicConcurrency"/> 1). Every answer, 404 and 429 included, carries
/// <c>x-rate-limit-limit</c>, <c>x-rate-limit-interval: 1s</c>, <c>x-concurrency-limit</c> and <c>x-api-pool</c>.
/// A request that would make more requests of its pool in flight than the concurrency, or more started within any
/// sliding second (less <see cref="RateTolerance"/>) than the rate, answers 429 with the HTML body Crossref's front
/// end has been seen to send, and no Retry-After (Crossref promises none). Only accepted requests count towards either
/// limit. <see cref="ProcessingDelay"/> holds each accepted request before it is answered.
/// </para>
/// Does not check: any route but <c>/works/{doi}</c> (no <c>/works?query</c>, <c>filter</c>, <c>select</c>, <c>rows</c>,
/// cursors, <c>/journals</c>, <c>/members</c>, content negotiation), the lower rate for list queries, the Plus pool and
/// its token, per-IP accounting (each pool is one client), blocking, gzip, and the shape of the work messages (returned
/// as registered).
/// </summary>
public sealed class CrossrefDouble : HttpDouble
{
    private const string TooManyRequestsBody = "<html><body><h1>429 Too Many Requests</h1>\nYou have sent too many requests in a given amount of time.\n</body></html>\n";
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly Lock _gate = new();
    private readonly Dictionary<string, JsonObject> _works = new(StringComparer.Ordinal);
    private readonly List<CrossrefCall> _calls = [];
    private readonly PoolState _polite = new();
    private readonly PoolState _public = new();
    private int _inFlight;
    private int _maxInFlight;
    private int _tooManyRequests;

    public int PoliteRate { get; set; } = 10;

    public int PoliteConcurrency { get; set; } = 3;

    public int PublicRate { get; set; } = 5;

    public int PublicConcurrency { get; set; } = 1;

    /// <summary>How much sooner than the sliding second a request may come, for clock jitter.</summary>
    public TimeSpan RateTolerance { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>How long each accepted request is held (in flight) before its answer.</summary>
    public TimeSpan ProcessingDelay { get; set; }

    /// <summary>Every request, in the order it arrived.</summary>
    public IReadOnlyList<CrossrefCall> Calls
    {
        get
        {
            lock (_gate)
            {
                return _calls.OrderBy(c => c.Elapsed).ToList();
            }
        }
    }

    /// <summary>The most accepted requests (both pools together) that were in flight at once.</summary>
    public int MaxInFlight
    {
        get
        {
            lock (_gate)
            {
                return _maxInFlight;
            }
        }
    }

    /// <summary>Requests answered 429, for concurrency or for rate.</summary>
    public int TooManyRequests
    {
        get
        {
            lock (_gate)
            {
                return _tooManyRequests;
            }
        }
    }

    public static async Task<CrossrefDouble> StartNewAsync()
    {
        var server = new CrossrefDouble();
        await server.StartAsync();
        return server;
    }

    /// <summary>Registers the <c>message</c> of <c>GET /works/{doi}</c>.</summary>
    public void AddWork(string doi, JsonObject message)
    {
        lock (_gate)
        {
            _works[doi.ToLowerInvariant()] = (JsonObject)message.DeepClone();
        }
    }

    /// <summary>
    /// A work message with the fields Chive reads, named and nested as Crossref does: <c>DOI</c>, <c>title</c> and
    /// <c>container-title</c> as arrays (empty when unknown), <c>published.date-parts</c> (left out without a year),
    /// <c>volume</c> and <c>page</c> (left out when unknown), <c>author</c> with <c>given</c>, <c>family</c>,
    /// <c>sequence</c> (first / additional) and an empty <c>affiliation</c>, and <c>type: journal-article</c>.
    /// </summary>
    public static JsonObject Work(
        string doi,
        string? title,
        int? year,
        string? container,
        string? volume = null,
        string? page = null,
        IEnumerable<(string given, string family)>? authors = null)
    {
        var work = new JsonObject
        {
            ["DOI"] = doi,
            ["type"] = "journal-article",
            ["title"] = title is null ? new JsonArray() : new JsonArray(title),
            ["container-title"] = container is null ? new JsonArray() : new JsonArray(container),
        };
        if (year is not null)
        {
            work["published"] = new JsonObject { ["date-parts"] = new JsonArray(new JsonArray(year.Value)) };
        }

        if (volume is not null)
        {
            work["volume"] = volume;
        }

        if (page is not null)
        {
            work["page"] = page;
        }

        var list = (authors ?? []).ToList();
        if (list.Count > 0)
        {
            work["author"] = new JsonArray(list.Select((a, i) => (JsonNode)new JsonObject
            {
                ["given"] = a.given,
                ["family"] = a.family,
                ["sequence"] = i == 0 ? "first" : "additional",
                ["affiliation"] = new JsonArray(),
            }).ToArray());
        }

        return work;
    }

    protected override void Map(WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            var arrived = Elapsed;
            var at = DateTimeOffset.UtcNow;
            var userAgent = context.Request.Headers.UserAgent.ToString();
            var polite = userAgent.Contains("mailto:", StringComparison.OrdinalIgnoreCase) || context.Request.Query.ContainsKey("mailto");
            var (pool, rate, concurrency) = polite ? (_polite, PoliteRate, PoliteConcurrency) : (_public, PublicRate, PublicConcurrency);
            var headers = context.Response.Headers;
            headers["x-rate-limit-limit"] = rate.ToString(CultureInfo.InvariantCulture);
            headers["x-rate-limit-interval"] = "1s";
            headers["x-concurrency-limit"] = concurrency.ToString(CultureInfo.InvariantCulture);
            headers["x-api-pool"] = polite ? "polite" : "public";

            var path = RawPath(context);
            var doi = path.StartsWith("/works/", StringComparison.Ordinal) ? Uri.UnescapeDataString(path["/works/".Length..]) : null;
            if (!Admit(pool, rate, concurrency))
            {
                await Results.Text(TooManyRequestsBody, "text/html", statusCode: StatusCodes.Status429TooManyRequests).ExecuteAsync(context);
            }
            else
            {
                try
                {
                    if (ProcessingDelay > TimeSpan.Zero)
                    {
                        await Task.Delay(ProcessingDelay, context.RequestAborted);
                    }

                    await next(context);
                }
                finally
                {
                    lock (_gate)
                    {
                        pool.InFlight--;
                        _inFlight--;
                    }
                }
            }

            lock (_gate)
            {
                _calls.Add(new CrossrefCall(arrived, at, doi, userAgent.Length == 0 ? null : userAgent, polite ? "polite" : "public", context.Response.StatusCode));
            }
        });

        app.MapGet("/works/{**doi}", (HttpContext context) =>
        {
            var doi = Uri.UnescapeDataString(RawPath(context)["/works/".Length..]);
            JsonObject? message;
            lock (_gate)
            {
                message = _works.GetValueOrDefault(doi.ToLowerInvariant())?.DeepClone().AsObject();
            }

            return message is null
                ? Results.Text("Resource not found.", "text/plain", statusCode: StatusCodes.Status404NotFound)
                : Results.Json(new JsonObject
                {
                    ["status"] = "ok",
                    ["message-type"] = "work",
                    ["message-version"] = "1.0.0",
                    ["message"] = message,
                });
        });
    }

    /// <summary>Takes a place in the pool, or says the request is one too many (and counts it).</summary>
    private bool Admit(PoolState pool, int rate, int concurrency)
    {
        lock (_gate)
        {
            // Read under the gate so that the starts are queued in order.
            var now = Elapsed;
            // A start older than the window (less the tolerance) no longer counts against the rate.
            while (pool.Starts.Count > 0 && now - pool.Starts.Peek() >= Interval - RateTolerance)
            {
                pool.Starts.Dequeue();
            }

            if (pool.InFlight >= concurrency || pool.Starts.Count >= rate)
            {
                _tooManyRequests++;
                return false;
            }

            pool.InFlight++;
            pool.Starts.Enqueue(now);
            _inFlight++;
            _maxInFlight = Math.Max(_maxInFlight, _inFlight);
            return true;
        }
    }

    /// <summary>What one pool holds: its requests in flight and the starts of the last second (guarded by the gate).</summary>
    private sealed class PoolState
    {
        public int InFlight { get; set; }

        public Queue<TimeSpan> Starts { get; } = new();
    }
}

/// <summary>
/// One request to the Crossref double: when it arrived (<paramref name="Elapsed"/> on the double's monotonic clock, and
/// wall time), the DOI asked for (null for another route), the User-Agent (null when none), the pool it fell in
/// (<c>polite</c> or <c>public</c>) and the status answered.
/// </summary>
public sealed record CrossrefCall(TimeSpan Elapsed, DateTimeOffset At, string? Doi, string? UserAgent, string Pool, int Status);
