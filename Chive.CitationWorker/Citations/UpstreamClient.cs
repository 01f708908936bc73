using System.Net;
using System.Net.Http.Headers;

namespace Chive.CitationWorker.Citations;

/// <summary>An answer of an upstream service: its status and body (read up to a cap). Headers go to the caller's observer.</summary>
public sealed record UpstreamAnswer(HttpStatusCode Status, byte[] Body);

/// <summary>A lookup that could not be made: the service kept failing, or asked us to wait longer than we wait.</summary>
public sealed class UpstreamException(string service, string message, Exception? inner = null)
    : Exception($"{service}: {message}", inner)
{
    public string Service { get; } = service;
}

/// <summary>
/// One upstream service's requests, each through its <see cref="UpstreamGate"/>: a timeout per request; 429 sat out
/// (its <c>Retry-After</c>, or a backoff when it gives none) with every other request of this worker held back too;
/// 5xx, timeouts and refused connections retried with exponential backoff and jitter; an answer read up to a cap.
/// Anything else (200, 404, 400…) is the caller's to read. Its own HttpClient: no second retry layer stacked on this one.
/// </summary>
public sealed class UpstreamClient(
    string service,
    string source,
    HttpClient http,
    UpstreamGate gate,
    UpstreamClient.Policy policy,
    TimeProvider time,
    ILogger logger)
{
    public sealed record Policy(TimeSpan RequestTimeout, int MaxAttempts, TimeSpan MaxRetryAfter, long MaxResponseBytes);

    public UpstreamGate Gate => gate;

    /// <summary>Requests sent (attempts included).</summary>
    public long Requests => Interlocked.Read(ref _requests);

    private long _requests;

    /// <summary>Sends the request made by <paramref name="request"/> (called again for each attempt).</summary>
    public async Task<UpstreamAnswer> SendAsync(Func<HttpRequestMessage> request, Action<HttpResponseHeaders>? observe, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            string failure;
            using (await gate.EnterAsync(cancellationToken))
            {
                using var deadline = new CancellationTokenSource(policy.RequestTimeout, time);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
                try
                {
                    Interlocked.Increment(ref _requests);
                    using var message = request();
                    using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                    observe?.Invoke(response.Headers);
                    if (response.StatusCode == HttpStatusCode.TooManyRequests)
                    {
                        CitationMetrics.Refused(source, "rate_limited");
                        var wait = RetryAfter(response, time) ?? Backoff(attempt);
                        if (wait > policy.MaxRetryAfter)
                        {
                            throw new UpstreamException(service, $"asked us to wait {wait.TotalSeconds:F0} s, longer than the {policy.MaxRetryAfter.TotalSeconds:F0} s we wait");
                        }

                        gate.BlockUntil(time.GetUtcNow() + wait);
                        failure = $"429, waiting {wait.TotalSeconds:F1} s";
                    }
                    else if ((int)response.StatusCode >= 500)
                    {
                        CitationMetrics.Refused(source, "server_error");
                        if (RetryAfter(response, time) is { } wait && wait <= policy.MaxRetryAfter)
                        {
                            gate.BlockUntil(time.GetUtcNow() + wait);
                        }

                        failure = $"{(int)response.StatusCode}";
                    }
                    else
                    {
                        return new UpstreamAnswer(response.StatusCode,
                            await CappedBody.ReadAsync(response, policy.MaxResponseBytes, timeout.Token)
                            ?? throw new UpstreamException(service, $"the answer is longer than the cap of {policy.MaxResponseBytes} bytes"));
                    }
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    CitationMetrics.Refused(source, "timeout");
                    failure = $"no answer within {policy.RequestTimeout.TotalSeconds:0.###} s";
                }
                catch (HttpRequestException ex)
                {
                    CitationMetrics.Refused(source, "unreachable");
                    failure = ex.Message;
                }
            }

            if (attempt >= policy.MaxAttempts)
            {
                throw new UpstreamException(service, $"gave up after {attempt} attempts; last: {failure}");
            }

            logger.LogInformation("{Service}: attempt {Attempt} failed ({Failure}); trying again", service, attempt, failure);
            if (!failure.StartsWith("429", StringComparison.Ordinal))
            {
                await Task.Delay(Backoff(attempt), time, cancellationToken);
            }
        }
    }

    /// <summary>Retry-After as seconds or a date; null when absent or unreadable.</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage response, TimeProvider clock)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        if (header?.Date is { } date)
        {
            var wait = date - clock.GetUtcNow();
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }

        return null;
    }

    /// <summary>2, 4, 8… seconds (at most 60), ± 25 % jitter so that many workers do not come back together.</summary>
    private static TimeSpan Backoff(int attempt) =>
        TimeSpan.FromSeconds(Math.Min(60, Math.Pow(2, attempt)) * (0.75 + Random.Shared.NextDouble() * 0.5));

    /// <summary>The HttpClient of one upstream service: no proxy, no cookies, the timeout is ours (per request).</summary>
    public static HttpClient CreateHttpClient(Uri baseAddress, string userAgent)
    {
        var client = new HttpClient(new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(10),
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.All,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        })
        {
            BaseAddress = baseAddress,
            Timeout = Timeout.InfiniteTimeSpan,
        };
        client.DefaultRequestHeaders.TryAddWithoutValidation("User-Agent", userAgent);
        return client;
    }
}
