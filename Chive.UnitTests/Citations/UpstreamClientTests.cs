using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Chive.CitationWorker.Citations;
using Microsoft.Extensions.Logging.Abstractions;

namespace Chive.UnitTests.Citations;

/// <summary>
/// What one upstream request goes through: 429 sat out (and everyone else held back meanwhile), a Retry-After too long
/// refused, 5xx, timeouts and refused connections retried, oversized answers cut off, and anything else handed back.
/// The service is a stub <see cref="HttpMessageHandler"/>; the clock is the real one, so a retry after a 5xx or a
/// timeout costs the production backoff of 2 s × 0.75–1.25 (these tests use two attempts, one backoff each).
/// </summary>
public sealed class UpstreamClientTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    // The gate reads the wall clock and the tests a Stopwatch: a few milliseconds of disagreement are allowed for.
    private static readonly TimeSpan Grain = TimeSpan.FromMilliseconds(20);

    [Fact]
    public async Task A_429_with_Retry_After_is_sat_out_then_retried_and_holds_back_every_other_request()
    {
        var firstCallAnswering = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var upstream = new StubUpstream(async (call, cancellationToken) =>
        {
            if (call == 1)
            {
                firstCallAnswering.SetResult();
                await Task.Delay(100, cancellationToken); // the other request queues behind this one meanwhile
                return new HttpResponseMessage(HttpStatusCode.TooManyRequests) { Headers = { RetryAfter = new(TimeSpan.FromSeconds(1)) } };
            }

            return Json("{}");
        });
        using var http = Http(upstream);
        var client = Client(http, new UpstreamGate(requestsPerSecond: 1000, concurrency: 1, TimeProvider.System));

        var first = client.SendAsync(Get, null, CancellationToken.None);
        await firstCallAnswering.Task.WaitAsync(Patience);
        var other = client.SendAsync(Get, null, CancellationToken.None);
        var answers = await Task.WhenAll(first, other).WaitAsync(Patience);

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.Status));
        var calls = upstream.CallTimes;
        Assert.Equal(3, calls.Count);
        var blockedFrom = calls[0] + TimeSpan.FromMilliseconds(100);
        Assert.All(calls.Skip(1), call => Assert.True(call >= blockedFrom + TimeSpan.FromSeconds(1) - Grain, $"a request started {call - calls[0]} after the 429's request"));
        Assert.Equal(3, client.Requests);
    }

    [Fact]
    public async Task The_Retry_After_of_a_429_is_the_whole_wait_with_no_backoff_on_top()
    {
        var upstream = new StubUpstream((call, _) => Task.FromResult(call == 1
            ? new HttpResponseMessage(HttpStatusCode.TooManyRequests) { Headers = { RetryAfter = new(TimeSpan.Zero) } }
            : Json("{}")));
        using var http = Http(upstream);
        var client = Client(http, maxAttempts: 2);
        var clock = Stopwatch.StartNew();

        await client.SendAsync(Get, null, CancellationToken.None).WaitAsync(Patience);

        // A backoff would be at least 1.5 s.
        Assert.Equal(2, upstream.Calls);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1.4), $"answered after {clock.Elapsed}");
    }

    public static TheoryData<string> LongWaits() => ["seconds", "date"];

    [Theory]
    [MemberData(nameof(LongWaits))]
    public async Task A_Retry_After_longer_than_we_wait_fails_at_once_without_holding_anyone_back(string form)
    {
        var upstream = new StubUpstream((_, _) => Task.FromResult(new HttpResponseMessage(HttpStatusCode.TooManyRequests)
        {
            Headers =
            {
                RetryAfter = form == "seconds"
                    ? new RetryConditionHeaderValue(TimeSpan.FromSeconds(120))
                    : new RetryConditionHeaderValue(DateTimeOffset.UtcNow.AddMinutes(10)),
            },
        }));
        using var http = Http(upstream);
        var gate = new UpstreamGate(requestsPerSecond: 1000, concurrency: 1, TimeProvider.System);
        var client = Client(http, gate, maxAttempts: 3, maxRetryAfter: TimeSpan.FromSeconds(30));
        var clock = Stopwatch.StartNew();

        var failure = await Assert.ThrowsAsync<UpstreamException>(() => client.SendAsync(Get, null, CancellationToken.None).WaitAsync(Patience));
        (await gate.EnterAsync(CancellationToken.None).WaitAsync(Patience)).Dispose();

        Assert.Equal("Test service", failure.Service);
        Assert.Equal(1, upstream.Calls);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"failed after {clock.Elapsed}");
    }

    [Fact]
    public async Task A_503_is_retried_after_a_backoff_until_the_attempts_run_out()
    {
        var upstream = new StubUpstream((_, _) => Task.FromResult(new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)));
        using var http = Http(upstream);
        var client = Client(http, maxAttempts: 2);

        var failure = await Assert.ThrowsAsync<UpstreamException>(() => client.SendAsync(Get, null, CancellationToken.None).WaitAsync(Patience));

        Assert.Contains("gave up after 2 attempts", failure.Message, StringComparison.Ordinal);
        Assert.Contains("503", failure.Message, StringComparison.Ordinal);
        var calls = upstream.CallTimes;
        Assert.Equal(2, calls.Count);
        Assert.Equal(2, client.Requests);
        var backoff = calls[1] - calls[0];
        Assert.True(backoff >= TimeSpan.FromSeconds(1.5) - Grain && backoff < TimeSpan.FromSeconds(5), $"the retry came {backoff} after the first attempt");
    }

    [Fact]
    public async Task A_5xx_then_a_success_returns_the_success()
    {
        var upstream = new StubUpstream((call, _) => Task.FromResult(call == 1 ? new HttpResponseMessage(HttpStatusCode.BadGateway) : Json("""{"ok":true}""")));
        using var http = Http(upstream);
        var client = Client(http, maxAttempts: 2);

        var answer = await client.SendAsync(Get, null, CancellationToken.None).WaitAsync(Patience);

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal("""{"ok":true}"""u8.ToArray(), answer.Body);
        Assert.Equal(2, upstream.Calls);
    }

    [Fact]
    public async Task A_refused_connection_is_retried_then_given_up()
    {
        var upstream = new StubUpstream((_, _) => throw new HttpRequestException("Connection refused (upstream.test:80)"));
        using var http = Http(upstream);
        var client = Client(http, maxAttempts: 2);

        var failure = await Assert.ThrowsAsync<UpstreamException>(() => client.SendAsync(Get, null, CancellationToken.None).WaitAsync(Patience));

        Assert.Contains("Connection refused", failure.Message, StringComparison.Ordinal);
        Assert.Equal(2, upstream.Calls);
    }

    [Fact]
    public async Task A_request_without_an_answer_times_out_is_retried_then_given_up()
    {
        var upstream = new StubUpstream(async (_, cancellationToken) =>
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
            throw new UnreachableException();
        });
        using var http = Http(upstream);
        var client = Client(http, maxAttempts: 2, requestTimeout: TimeSpan.FromMilliseconds(200));

        var failure = await Assert.ThrowsAsync<UpstreamException>(() => client.SendAsync(Get, null, CancellationToken.None).WaitAsync(Patience));

        Assert.Contains("no answer within", failure.Message, StringComparison.Ordinal);
        Assert.Equal(2, upstream.Calls);
    }

    [Fact]
    public async Task The_callers_cancellation_is_not_a_timeout_and_is_not_retried()
    {
        var upstream = new StubUpstream(async (_, cancellationToken) =>
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
            throw new UnreachableException();
        });
        using var http = Http(upstream);
        var client = Client(http, maxAttempts: 3, requestTimeout: TimeSpan.FromSeconds(30));
        using var giveUp = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.SendAsync(Get, null, giveUp.Token).WaitAsync(Patience));

        Assert.Equal(1, upstream.Calls);
    }

    [Fact]
    public async Task A_404_is_the_callers_to_read_and_is_not_retried()
    {
        var upstream = new StubUpstream((_, _) => Task.FromResult(new HttpResponseMessage(HttpStatusCode.NotFound)
        {
            Content = new StringContent("""{"error":"Paper not found"}"""),
        }));
        using var http = Http(upstream);
        var client = Client(http, maxAttempts: 3);

        var answer = await client.SendAsync(Get, null, CancellationToken.None).WaitAsync(Patience);

        Assert.Equal(HttpStatusCode.NotFound, answer.Status);
        Assert.Equal("""{"error":"Paper not found"}"""u8.ToArray(), answer.Body);
        Assert.Equal(1, upstream.Calls);
    }

    [Fact]
    public async Task Every_answer_is_shown_to_the_observer()
    {
        var upstream = new StubUpstream((call, _) =>
        {
            var answer = call == 1 ? new HttpResponseMessage(HttpStatusCode.TooManyRequests) { Headers = { RetryAfter = new(TimeSpan.Zero) } } : Json("{}");
            answer.Headers.Add("x-rate-limit-limit", call.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return Task.FromResult(answer);
        });
        using var http = Http(upstream);
        var client = Client(http, maxAttempts: 2);
        var seen = new List<string>();

        await client.SendAsync(Get, headers => seen.Add(headers.GetValues("x-rate-limit-limit").Single()), CancellationToken.None).WaitAsync(Patience);

        Assert.Equal(["1", "2"], seen);
    }

    public static TheoryData<bool> Declared() => [true, false];

    [Theory]
    [MemberData(nameof(Declared))]
    public async Task An_answer_longer_than_the_cap_is_refused_and_not_retried(bool declared)
    {
        var upstream = new StubUpstream((_, _) => Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK)
        {
            Content = Body(new byte[200_000], declared),
        }));
        using var http = Http(upstream);
        var gate = new UpstreamGate(requestsPerSecond: 1000, concurrency: 1, TimeProvider.System);
        var client = Client(http, gate, maxAttempts: 3, maxResponseBytes: 100_000);

        var failure = await Assert.ThrowsAsync<UpstreamException>(() => client.SendAsync(Get, null, CancellationToken.None).WaitAsync(Patience));

        Assert.Contains("100000", failure.Message, StringComparison.Ordinal);
        Assert.Equal(1, upstream.Calls);

        // The failed request gave its slot back.
        (await gate.EnterAsync(CancellationToken.None).WaitAsync(Patience)).Dispose();
    }

    [Theory]
    [MemberData(nameof(Declared))]
    public async Task An_answer_of_exactly_the_cap_is_read(bool declared)
    {
        var body = Enumerable.Range(0, 100_000).Select(i => (byte)i).ToArray();
        var upstream = new StubUpstream((_, _) => Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = Body(body, declared) }));
        using var http = Http(upstream);
        var client = Client(http, maxResponseBytes: 100_000);

        var answer = await client.SendAsync(Get, null, CancellationToken.None).WaitAsync(Patience);

        Assert.Equal(body, answer.Body);
    }

    private static HttpRequestMessage Get() => new(HttpMethod.Get, "works/10.5555%2Fx");

    private static HttpResponseMessage Json(string json) => new(HttpStatusCode.OK) { Content = new StringContent(json) };

    private static HttpContent Body(byte[] bytes, bool declared) => declared ? new ByteArrayContent(bytes) : new UndeclaredLengthContent(bytes);

    private static HttpClient Http(HttpMessageHandler handler) =>
        new(handler) { BaseAddress = new Uri("http://upstream.test/"), Timeout = Timeout.InfiniteTimeSpan };

    private static UpstreamClient Client(
        HttpClient http, UpstreamGate? gate = null, int maxAttempts = 3, TimeSpan? requestTimeout = null, TimeSpan? maxRetryAfter = null,
        long maxResponseBytes = 1_000_000) =>
        new("Test service", "test", http, gate ?? new UpstreamGate(requestsPerSecond: 1000, concurrency: 4, TimeProvider.System),
            new UpstreamClient.Policy(requestTimeout ?? TimeSpan.FromSeconds(10), maxAttempts, maxRetryAfter ?? TimeSpan.FromSeconds(30), maxResponseBytes),
            TimeProvider.System, NullLogger.Instance);

    /// <summary>The upstream service: answers each call (numbered from 1) as told, and notes when each call came.</summary>
    private sealed class StubUpstream(Func<int, CancellationToken, Task<HttpResponseMessage>> answer) : HttpMessageHandler
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly List<TimeSpan> _callTimes = [];

        public int Calls
        {
            get
            {
                lock (_callTimes)
                {
                    return _callTimes.Count;
                }
            }
        }

        public IReadOnlyList<TimeSpan> CallTimes
        {
            get
            {
                lock (_callTimes)
                {
                    return [.. _callTimes];
                }
            }
        }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            int call;
            lock (_callTimes)
            {
                _callTimes.Add(_clock.Elapsed);
                call = _callTimes.Count;
            }

            return answer(call, cancellationToken);
        }
    }

    /// <summary>A body sent without Content-Length (chunked, on the wire): its size is known only by reading it.</summary>
    private sealed class UndeclaredLengthContent(byte[] bytes) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(bytes).AsTask();

        protected override Task<Stream> CreateContentReadStreamAsync() => Task.FromResult<Stream>(new MemoryStream(bytes, writable: false));

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
