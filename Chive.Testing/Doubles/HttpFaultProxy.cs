using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Chive.Testing.Doubles;

/// <summary>One scripted misbehaviour, applied to one request instead of forwarding it.</summary>
public abstract record HttpFault
{
    /// <summary>HTTP 429 with <c>Retry-After: seconds</c> and an XRPC <c>RateLimitExceeded</c> body.</summary>
    public sealed record RateLimited(int RetryAfterSeconds) : HttpFault;

    /// <summary>Forwards the request, then adds <c>RateLimit-Remaining: 0</c> and <c>RateLimit-Reset</c> (epoch seconds).</summary>
    public sealed record QuotaExhausted(int ResetInSeconds) : HttpFault;

    /// <summary>A status with an XRPC error body (e.g. 500 InternalServerError).</summary>
    public sealed record Status(int Code, string Error = "InternalServerError") : HttpFault;

    /// <summary>Sends nothing for <paramref name="Duration"/> (a hung server), then closes.</summary>
    public sealed record Hang(TimeSpan Duration) : HttpFault;

    /// <summary>200 with a valid JSON body of about <paramref name="Bytes"/> bytes.</summary>
    public sealed record Oversize(int Bytes, bool DeclareLength = false) : HttpFault;

    /// <summary>200 with a body that is not JSON.</summary>
    public sealed record Malformed : HttpFault;

    /// <summary>Forwards the request after waiting <paramref name="Delay"/>.</summary>
    public sealed record Slow(TimeSpan Delay) : HttpFault;

    /// <summary>302 to <paramref name="Location"/>.</summary>
    public sealed record Redirect(string Location) : HttpFault;

    /// <summary>Answers with this JSON body instead of forwarding (e.g. an empty but successful listing).</summary>
    public sealed record Canned(string Json, int Code = 200) : HttpFault;
}

/// <summary>
/// Counts, across several proxies, how many of them have a request in flight at once (e.g. "never more than two PDSes
/// scanned at the same time").
/// </summary>
public sealed class InFlightMeter
{
    private readonly Dictionary<object, int> _inFlight = [];
    private readonly Lock _gate = new();

    public int MaxConcurrentHosts { get; private set; }

    internal void Enter(object host)
    {
        lock (_gate)
        {
            _inFlight[host] = _inFlight.GetValueOrDefault(host) + 1;
            MaxConcurrentHosts = Math.Max(MaxConcurrentHosts, _inFlight.Count(p => p.Value > 0));
        }
    }

    internal void Exit(object host)
    {
        lock (_gate)
        {
            _inFlight[host]--;
        }
    }
}

/// <summary>
/// An HTTP reverse proxy of our own in front of a real server (the reference PDS), for what the real server will not
/// do on demand: it forwards every request unchanged unless a fault is queued, in which case the next request gets
/// that fault, or a <see cref="Rewrite"/> is set. It counts the requests it receives and the bytes it forwards. Does not
/// check or change anything else (headers other than Content-Type are not forwarded; bodies are streamed through, except
/// a rewritten one, which is held whole).
/// </summary>
public sealed class HttpFaultProxy : HttpDouble
{
    private readonly HttpClient _forward = new() { Timeout = TimeSpan.FromSeconds(60) };
    private readonly ConcurrentQueue<HttpFault> _faults = new();
    private Uri _target = null!;
    private int _requests;
    private long _bytes;

    /// <summary>Requests received, faults included.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Bytes of the answer bodies forwarded from the upstream (what a reader downloaded through this proxy).</summary>
    public long BytesForwarded => Interlocked.Read(ref _bytes);

    /// <summary>Every request received, as "METHOD /path" (no query), in order.</summary>
    public ConcurrentQueue<string> Log { get; } = new();

    /// <summary>The same requests with their query strings (to count the requests about one repo).</summary>
    public ConcurrentQueue<string> LogWithQuery { get; } = new();

    /// <summary>When each request arrived (<see cref="System.Diagnostics.Stopwatch"/> timestamps), in order: the pace a host sees.</summary>
    public ConcurrentQueue<long> Arrivals { get; } = new();

    /// <summary>Optional: counts this proxy's requests in flight together with other proxies'.</summary>
    public InFlightMeter? Meter { get; set; }

    /// <summary>Requests received for one XRPC method.</summary>
    public int CountOf(string nsid) => Log.Count(l => l.EndsWith("/xrpc/" + nsid, StringComparison.Ordinal));

    /// <summary>A fault applied to every request while set (for "this host is down" scenarios).</summary>
    public HttpFault? Always { get; set; }

    /// <summary>
    /// While set, rewrites the body of every forwarded answer: given the request's path and query and the upstream's
    /// body, returns the body sent instead (a hostile PDS altering the real repo it relays).
    /// </summary>
    public Func<string, byte[], byte[]>? Rewrite { get; set; }

    public static async Task<HttpFaultProxy> StartNewAsync(Uri target)
    {
        var proxy = new HttpFaultProxy { _target = target };
        await proxy.StartAsync();
        return proxy;
    }

    public void Enqueue(params HttpFault[] faults)
    {
        foreach (var fault in faults)
        {
            _faults.Enqueue(fault);
        }
    }

    public void ResetCount()
    {
        Interlocked.Exchange(ref _requests, 0);
        Interlocked.Exchange(ref _bytes, 0);
        Log.Clear();
        LogWithQuery.Clear();
        Arrivals.Clear();
    }

    /// <summary>
    /// The most requests that arrived within any span of <paramref name="window"/> (a sliding window over
    /// <see cref="Arrivals"/>): what a host's own rate limiter would count.
    /// </summary>
    public int MostArrivalsWithin(TimeSpan window)
    {
        var times = Arrivals.Order().ToArray();
        var span = (long)(window.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
        var most = 0;
        for (int first = 0, last = 0; last < times.Length; last++)
        {
            while (times[last] - times[first] > span)
            {
                first++;
            }

            most = Math.Max(most, last - first + 1);
        }

        return most;
    }

    protected override void Map(WebApplication app) => app.Run(HandleAsync);

    private async Task HandleAsync(HttpContext context)
    {
        Interlocked.Increment(ref _requests);
        Arrivals.Enqueue(System.Diagnostics.Stopwatch.GetTimestamp());
        Log.Enqueue($"{context.Request.Method} {context.Request.Path}");
        LogWithQuery.Enqueue($"{context.Request.Method} {context.Request.Path}{context.Request.QueryString}");
        var meter = Meter;
        meter?.Enter(this);
        try
        {
            await HandleFaultOrForwardAsync(context);
        }
        finally
        {
            meter?.Exit(this);
        }
    }

    private async Task HandleFaultOrForwardAsync(HttpContext context)
    {
        var fault = Always ?? (_faults.TryDequeue(out var next) ? next : null);
        switch (fault)
        {
            case HttpFault.RateLimited r:
                context.Response.StatusCode = 429;
                context.Response.Headers.RetryAfter = r.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await context.Response.WriteAsJsonAsync(new { error = "RateLimitExceeded", message = "Rate Limit Exceeded" });
                return;
            case HttpFault.Status s:
                context.Response.StatusCode = s.Code;
                await context.Response.WriteAsJsonAsync(new { error = s.Error, message = $"injected {s.Code}" });
                return;
            case HttpFault.Hang h:
                await Task.Delay(h.Duration, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
                context.Abort();
                return;
            case HttpFault.Oversize o:
                var filler = new string('x', Math.Max(0, o.Bytes - 32));
                var body = Encoding.UTF8.GetBytes($"{{\"repos\":[],\"filler\":\"{filler}\"}}");
                context.Response.ContentType = "application/json";
                if (o.DeclareLength)
                {
                    context.Response.ContentLength = body.Length;
                }

                await context.Response.Body.WriteAsync(body);
                return;
            case HttpFault.Malformed:
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync("{\"records\": [ this is not json");
                return;
            case HttpFault.Canned c:
                context.Response.StatusCode = c.Code;
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync(c.Json);
                return;
            case HttpFault.Redirect d:
                context.Response.StatusCode = 302;
                context.Response.Headers.Location = d.Location;
                return;
            case HttpFault.Slow s:
                await Task.Delay(s.Delay, context.RequestAborted);
                break;
        }

        await ForwardAsync(context, fault as HttpFault.QuotaExhausted);
    }

    private async Task ForwardAsync(HttpContext context, HttpFault.QuotaExhausted? quota)
    {
        var url = new Uri(_target, context.Request.Path + context.Request.QueryString);
        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), url);
        if (context.Request.ContentLength > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            request.Content = new StreamContent(context.Request.Body);
            if (context.Request.ContentType is { } type)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", type);
            }
        }

        using var response = await _forward.SendAsync(request, context.RequestAborted);
        context.Response.StatusCode = (int)response.StatusCode;
        if (response.Content.Headers.ContentType is { } contentType)
        {
            context.Response.ContentType = contentType.ToString();
        }

        if (quota is not null)
        {
            context.Response.Headers["RateLimit-Limit"] = "100";
            context.Response.Headers["RateLimit-Remaining"] = "0";
            context.Response.Headers["RateLimit-Reset"] = DateTimeOffset.UtcNow.AddSeconds(quota.ResetInSeconds).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (Rewrite is { } rewrite)
        {
            var body = rewrite($"{context.Request.Path}{context.Request.QueryString}", await response.Content.ReadAsByteArrayAsync(context.RequestAborted));
            Interlocked.Add(ref _bytes, body.Length);
            await context.Response.Body.WriteAsync(body, context.RequestAborted);
            return;
        }

        await using var upstream = await response.Content.ReadAsStreamAsync(context.RequestAborted);
        var buffer = new byte[81920];
        for (int read; (read = await upstream.ReadAsync(buffer, context.RequestAborted)) > 0;)
        {
            Interlocked.Add(ref _bytes, read);
            await context.Response.Body.WriteAsync(buffer.AsMemory(0, read), context.RequestAborted);
        }
    }
}
