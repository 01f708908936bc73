using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Chive.AtProto.Net;
using Microsoft.Extensions.Logging;

namespace Chive.AtProto.Xrpc;

/// <summary>
/// The one retry layer for everything we GET from servers run by others (PDSes, the PLC directory, did:web hosts):
/// per-host politeness, a timeout per attempt, retries with full-jitter backoff for 429, 5xx, timeouts and connection
/// failures only (never other 4xx), typed errors from XRPC error bodies, a span and metrics per call. GET only: there
/// is no way to send anything else through it.
/// </summary>
public sealed class PoliteHttp
{
    private readonly HttpClient _http;
    private readonly XrpcOptions _options;
    private readonly HostPoliteness _politeness;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    internal PoliteHttp(HttpClient http, XrpcOptions options, TimeProvider time, ILogger logger, IHostPacing? sharedPacing = null)
    {
        _http = http;
        _options = options;
        _time = time;
        _logger = logger;
        _politeness = new HostPoliteness(options, time, sharedPacing, logger);
    }

    public XrpcOptions Options => _options;

    /// <summary>
    /// GETs <paramref name="url"/> and returns the successful response with its headers read (the body is the
    /// caller's to read and dispose: use it for streams, which <see cref="CappedStream"/> bounds), or throws
    /// <see cref="XrpcException"/>.
    /// </summary>
    public Task<HttpResponseMessage> GetAsync(Uri url, string method, CancellationToken cancellationToken) =>
        SendAsync(url, method, static (response, _) => Task.FromResult(response), keepResponse: true, cancellationToken);

    /// <summary>
    /// GETs <paramref name="url"/> and reads its JSON body of at most <paramref name="maxBytes"/> (default
    /// <see cref="XrpcOptions.MaxJsonBytes"/>) within the same attempt: the attempt's timeout covers headers and body, so
    /// a body that trickles in is a <see cref="XrpcErrorKind.Timeout"/> (retried), and a body that is too large, not
    /// UTF-8 or not JSON is a typed error charged to the host like any other failure of it.
    /// </summary>
    public Task<JsonDocument> GetJsonAsync(Uri url, string method, CancellationToken cancellationToken, long? maxBytes = null) =>
        SendAsync(url, method, async (response, token) =>
        {
            var host = url.Authority.ToLowerInvariant();
            var body = await ReadCappedAsync(response.Content, maxBytes ?? _options.MaxJsonBytes, method, host, token);
            // The parser checks UTF-8 only where it looks; a string read later would throw an untyped exception.
            if (!System.Text.Unicode.Utf8.IsValid(body))
            {
                throw new XrpcException(XrpcErrorKind.MalformedResponse, method, host, "the body is not UTF-8", (int)response.StatusCode);
            }

            try
            {
                return JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = MaxResponseDepth });
            }
            catch (JsonException ex)
            {
                throw new XrpcException(XrpcErrorKind.MalformedResponse, method, host, $"the body is not JSON (or not UTF-8): {ex.Message}", (int)response.StatusCode, inner: ex);
            }
        }, keepResponse: false, cancellationToken);

    /// <summary>How deep a JSON answer may nest: far deeper than any record, well below what would exhaust a stack.</summary>
    public const int MaxResponseDepth = 128;

    private async Task<T> SendAsync<T>(
        Uri url, string method, Func<HttpResponseMessage, CancellationToken, Task<T>> read, bool keepResponse, CancellationToken cancellationToken)
    {
        var host = url.IsAbsoluteUri ? url.Authority.ToLowerInvariant() : "(relative)";
        if (SsrfGuard.SchemeRefusal(url) is { } schemeRefusal)
        {
            throw Fail(new XrpcException(XrpcErrorKind.Refused, method, host, schemeRefusal), method);
        }

        using var activity = AtProtoTelemetry.Source.StartActivity($"xrpc {method}", ActivityKind.Client);
        activity?.SetTag("rpc.system", "xrpc");
        activity?.SetTag("rpc.method", method);
        activity?.SetTag("server.address", url.Host);
        activity?.SetTag("server.port", url.Port);
        var started = _time.GetTimestamp();

        for (var attempt = 0; ; attempt++)
        {
            XrpcException error;
            bool trial;
            try
            {
                trial = await _politeness.AcquireAsync(host, method, cancellationToken);
            }
            catch (XrpcException refused)
            {
                Record(method, refused.Kind.ToString());
                throw Fail(refused, method, activity, _time.GetElapsedTime(started));
            }

            using var attemptTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            attemptTimeout.CancelAfter(_options.RequestTimeout);
            HttpResponseMessage? response = null;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, url);
                request.Headers.Accept.ParseAdd("application/json");
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, attemptTimeout.Token);
                _politeness.Observe(host, response);
                activity?.SetTag("http.response.status_code", (int)response.StatusCode);

                if (response.IsSuccessStatusCode)
                {
                    var result = await read(response, attemptTimeout.Token);
                    _politeness.ReportSuccess(host);
                    Record(method, "ok");
                    activity?.SetTag("xrpc.attempts", attempt + 1);
                    AtProtoTelemetry.Duration.Record(_time.GetElapsedTime(started).TotalSeconds, new("method", method), new("outcome", "ok"));
                    if (keepResponse)
                    {
                        response = null;
                    }

                    return result;
                }

                error = await ErrorFromResponseAsync(response, method, host, attemptTimeout.Token);
                if (error.Kind is XrpcErrorKind.ServerError)
                {
                    _politeness.ReportFailure(host);
                }
                else
                {
                    _politeness.ReportSuccess(host); // the host answered; the request was at fault (or rate limited)
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                _politeness.ReportAbandoned(host, trial);
                throw;
            }
            catch (OperationCanceledException ex)
            {
                _politeness.ReportFailure(host);
                error = new XrpcException(XrpcErrorKind.Timeout, method, host, $"no complete answer within {_options.RequestTimeout.TotalSeconds:0.###} s", inner: ex);
            }
            catch (HttpRequestException ex) when (FindRefusal(ex) is { } refusal)
            {
                _politeness.ReportAbandoned(host, trial);
                Record(method, nameof(XrpcErrorKind.Refused));
                throw Fail(new XrpcException(XrpcErrorKind.Refused, method, host, refusal.Message, inner: ex), method, activity, _time.GetElapsedTime(started));
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException)
            {
                // Refused connections, resets, and bodies that end before their declared length.
                _politeness.ReportFailure(host);
                error = new XrpcException(XrpcErrorKind.Unreachable, method, host, ex.Message, inner: ex);
            }
            catch (XrpcException bodyError) when (!cancellationToken.IsCancellationRequested)
            {
                // The body was too large, malformed or broke off: the host answered, wrongly.
                _politeness.ReportFailure(host);
                error = bodyError;
            }
            finally
            {
                response?.Dispose();
            }

            Record(method, error.Kind.ToString());
            if (!IsRetryable(error) || attempt >= _options.MaxRetries)
            {
                activity?.SetTag("xrpc.attempts", attempt + 1);
                throw Fail(error, method, activity, _time.GetElapsedTime(started));
            }

            var delay = Backoff(attempt);
            _logger.LogDebug("{Method} on {Host} failed ({Kind}); retry {Attempt} in {Delay}", method, host, error.Kind, attempt + 1, delay);
            await Task.Delay(delay, _time, cancellationToken);
        }
    }

    /// <summary>Records a failed call in the metrics (for errors found after the response was returned, e.g. bad JSON).</summary>
    internal static XrpcException Fail(XrpcException error, string method, Activity? activity = null, TimeSpan? elapsed = null)
    {
        AtProtoTelemetry.Errors.Add(1, new("method", method), new("outcome", error.Kind.ToString()));
        activity?.SetStatus(ActivityStatusCode.Error, error.Kind.ToString());
        activity?.SetTag("xrpc.error", error.ErrorName ?? error.Kind.ToString());
        if (elapsed is { } duration)
        {
            AtProtoTelemetry.Duration.Record(duration.TotalSeconds, new("method", method), new("outcome", error.Kind.ToString()));
        }

        return error;
    }

    internal static async Task<byte[]> ReadCappedAsync(HttpContent content, long cap, string method, string host, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength is { } declared && declared > cap)
        {
            throw new XrpcException(XrpcErrorKind.ResponseTooLarge, method, host, $"the body is {declared} bytes; the cap is {cap}");
        }

        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        await using var capped = new CappedStream(stream, cap, method, host, Timeout.InfiniteTimeSpan);
        using var buffer = new MemoryStream();
        await capped.CopyToAsync(buffer, cancellationToken);
        return buffer.ToArray();
    }

    /// <summary>
    /// Text a server wrote, made safe for our logs and operation errors: control characters replaced, at most
    /// <see cref="MaxServerText"/> characters.
    /// </summary>
    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(text))]
    internal static string? ServerText(string? text)
    {
        if (text is null)
        {
            return null;
        }

        var clean = new System.Text.StringBuilder(Math.Min(text.Length, MaxServerText) + 1);
        for (var i = 0; i < text.Length && clean.Length < MaxServerText; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                clean.Append(c).Append(text[++i]);
            }
            else
            {
                clean.Append(char.IsControl(c) || char.IsSurrogate(c) ? '?' : c);
            }
        }

        return clean.Length < text.Length ? clean.Append('…').ToString() : clean.ToString();
    }

    internal const int MaxServerText = 300;

    private static void Record(string method, string outcome) =>
        AtProtoTelemetry.Requests.Add(1, new("method", method), new("outcome", outcome));

    private static bool IsRetryable(XrpcException error) =>
        error.Kind is XrpcErrorKind.RateLimited or XrpcErrorKind.Timeout or XrpcErrorKind.Unreachable
        || (error.Kind is XrpcErrorKind.ServerError && error.HttpStatus is not (int)HttpStatusCode.NotImplemented);

    private TimeSpan Backoff(int attempt)
    {
        var ceiling = Math.Min(_options.RetryMaxDelay.TotalMilliseconds, _options.RetryBaseDelay.TotalMilliseconds * Math.Pow(2, attempt));
        return TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * ceiling);
    }

    private static SsrfRefusedException? FindRefusal(Exception ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is SsrfRefusedException refused)
            {
                return refused;
            }
        }

        return null;
    }

    private async Task<XrpcException> ErrorFromResponseAsync(HttpResponseMessage response, string method, string host, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        string? name = null;
        var message = response.ReasonPhrase ?? "";
        try
        {
            var body = await ReadCappedAsync(response.Content, Math.Min(_options.MaxJsonBytes, 64 * 1024), method, host, cancellationToken);
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind == JsonValueKind.Object)
            {
                name = json.RootElement.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;
                message = json.RootElement.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() ?? message : message;
            }
        }
        catch (Exception ex) when (ex is JsonException or XrpcException or HttpRequestException or IOException)
        {
            // an error without an XRPC body: the status alone speaks
        }

        var kind = (status, name) switch
        {
            (_, "RecordNotFound") => XrpcErrorKind.RecordNotFound,
            (_, "RepoNotFound") => XrpcErrorKind.RepoNotFound,
            (_, "RepoTakendown") => XrpcErrorKind.RepoTakendown,
            (_, "RepoDeactivated") => XrpcErrorKind.RepoDeactivated,
            (_, "RepoSuspended") => XrpcErrorKind.RepoSuspended,
            (_, "BlobNotFound") => XrpcErrorKind.BlobNotFound,
            // The reference PDS answers listRecords for a repo it does not host with this, not RepoNotFound.
            (400, "InvalidRequest") when message.StartsWith("Could not find repo", StringComparison.Ordinal) => XrpcErrorKind.RepoNotFound,
            (429, _) => XrpcErrorKind.RateLimited,
            _ when status >= 500 => XrpcErrorKind.ServerError,
            (400, "InvalidRequest" or null) => XrpcErrorKind.InvalidRequest,
            _ => XrpcErrorKind.OtherClientError,
        };
        return new XrpcException(kind, method, host, string.IsNullOrEmpty(message) ? $"HTTP {status}" : ServerText(message), status, ServerText(name));
    }
}
