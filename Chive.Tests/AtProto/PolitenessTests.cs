using System.Diagnostics;
using Chive.AtProto.Xrpc;
using Chive.Testing;
using Chive.Testing.Doubles;
using Chive.Tests.Infrastructure;

namespace Chive.Tests.AtProto;

/// <summary>
/// Retries, rate limits, timeouts, caps and circuits, through a fault proxy of our own in front of the real PDS
/// (the reference PDS sends no rate-limit headers and never fails on demand).
/// </summary>
[Collection(AtprotoNetworkCollection.Name)]
public sealed class PolitenessTests(AtprotoNetworkFixture fixture) : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private HttpFaultProxy _proxy = null!;
    private HttpFaultProxy _other = null!;

    public async Task InitializeAsync()
    {
        _proxy = await HttpFaultProxy.StartNewAsync(fixture.Network.PdsUrls[0]);
        _other = await HttpFaultProxy.StartNewAsync(fixture.Network.PdsUrls[0]);
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        await _other.DisposeAsync();
    }

    [Fact]
    public async Task A_429_with_Retry_After_is_waited_out_and_retried()
    {
        _proxy.Enqueue(new HttpFault.RateLimited(RetryAfterSeconds: 1));
        var client = TestClients.Xrpc();

        var watch = Stopwatch.StartNew();
        await client.ListReposPageAsync(_proxy.BaseAddress).WaitAsync(Timeout);

        Assert.Equal(2, _proxy.Requests);
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(900), $"retried after {watch.ElapsedMilliseconds} ms, before Retry-After");
    }

    [Fact]
    public async Task A_Retry_After_longer_than_we_wait_is_surfaced_at_once_as_rate_limited()
    {
        _proxy.Enqueue(new HttpFault.RateLimited(RetryAfterSeconds: 120));
        var client = TestClients.Xrpc(TestClients.FastOptions(o => o.MaxRateLimitWait = TimeSpan.FromSeconds(5)));

        var watch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<XrpcException>(() => client.ListReposPageAsync(_proxy.BaseAddress).WaitAsync(Timeout));

        Assert.Equal(XrpcErrorKind.RateLimited, error.Kind);
        Assert.Equal(1, _proxy.Requests);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task An_exhausted_RateLimit_quota_holds_the_next_request_until_the_reset()
    {
        _proxy.Enqueue(new HttpFault.QuotaExhausted(ResetInSeconds: 2));
        var client = TestClients.Xrpc();

        await client.ListReposPageAsync(_proxy.BaseAddress).WaitAsync(Timeout);
        var watch = Stopwatch.StartNew();
        await client.ListReposPageAsync(_proxy.BaseAddress).WaitAsync(Timeout);

        // RateLimit-Reset has one-second resolution: the wait is between 1 and 2 s.
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(900), $"second request after {watch.ElapsedMilliseconds} ms");
        Assert.Equal(2, _proxy.Requests);
    }

    [Fact]
    public async Task Server_errors_are_retried_and_then_succeed()
    {
        _proxy.Enqueue(new HttpFault.Status(500), new HttpFault.Status(502, "BadGateway"));
        var client = TestClients.Xrpc();

        await client.ListReposPageAsync(_proxy.BaseAddress).WaitAsync(Timeout);

        Assert.Equal(3, _proxy.Requests);
    }

    [Fact]
    public async Task Server_errors_are_surfaced_after_the_retries()
    {
        _proxy.Always = new HttpFault.Status(503, "ServiceUnavailable");
        var client = TestClients.Xrpc(TestClients.FastOptions(o => o.MaxRetries = 2));

        var error = await Assert.ThrowsAsync<XrpcException>(() => client.ListReposPageAsync(_proxy.BaseAddress).WaitAsync(Timeout));

        Assert.Equal(XrpcErrorKind.ServerError, error.Kind);
        Assert.Equal(503, error.HttpStatus);
        Assert.Equal(3, _proxy.Requests);
    }

    [Fact]
    public async Task Client_errors_are_never_retried()
    {
        _proxy.Enqueue(new HttpFault.Status(400, "InvalidRequest"));
        var client = TestClients.Xrpc();

        var error = await Assert.ThrowsAsync<XrpcException>(() => client.ListReposPageAsync(_proxy.BaseAddress).WaitAsync(Timeout));

        Assert.Equal(XrpcErrorKind.InvalidRequest, error.Kind);
        Assert.Equal(1, _proxy.Requests);
    }

    [Fact]
    public async Task A_hung_response_times_out()
    {
        _proxy.Always = new HttpFault.Hang(TimeSpan.FromSeconds(30));
        var client = TestClients.Xrpc(TestClients.FastOptions(o => { o.RequestTimeout = TimeSpan.FromMilliseconds(400); o.MaxRetries = 1; }));

        var watch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<XrpcException>(() => client.ListReposPageAsync(_proxy.BaseAddress).WaitAsync(Timeout));

        Assert.Equal(XrpcErrorKind.Timeout, error.Kind);
        Assert.Equal(2, _proxy.Requests);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.ElapsedMilliseconds} ms");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_body_over_the_cap_is_cut_off_with_a_typed_error(bool declareLength)
    {
        _proxy.Enqueue(new HttpFault.Oversize(Bytes: 64 * 1024, declareLength));
        var client = TestClients.Xrpc(TestClients.FastOptions(o => o.MaxJsonBytes = 8 * 1024));

        var error = await Assert.ThrowsAsync<XrpcException>(() => client.ListReposPageAsync(_proxy.BaseAddress).WaitAsync(Timeout));

        Assert.Equal(XrpcErrorKind.ResponseTooLarge, error.Kind);
        Assert.Equal(1, _proxy.Requests);
    }

    [Fact]
    public async Task Malformed_JSON_is_a_typed_error_and_not_retried()
    {
        _proxy.Enqueue(new HttpFault.Malformed());
        var client = TestClients.Xrpc();

        var error = await Assert.ThrowsAsync<XrpcException>(() => client.ListReposPageAsync(_proxy.BaseAddress).WaitAsync(Timeout));

        Assert.Equal(XrpcErrorKind.MalformedResponse, error.Kind);
        Assert.Equal(1, _proxy.Requests);
    }

    [Fact]
    public async Task One_failing_host_does_not_delay_another()
    {
        _proxy.Always = new HttpFault.Hang(TimeSpan.FromSeconds(30));
        var client = TestClients.Xrpc(TestClients.FastOptions(o => { o.RequestTimeout = TimeSpan.FromSeconds(4); o.MaxRetries = 0; }));

        var stuck = client.ListReposPageAsync(_proxy.BaseAddress);
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < 5; i++)
        {
            await client.ListReposPageAsync(_other.BaseAddress).WaitAsync(Timeout);
        }

        watch.Stop();
        Assert.False(stuck.IsCompleted);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"5 requests to a healthy host took {watch.ElapsedMilliseconds} ms");
        Assert.Equal(XrpcErrorKind.Timeout, (await Assert.ThrowsAsync<XrpcException>(() => stuck.WaitAsync(Timeout))).Kind);
    }

    [Fact]
    public async Task A_host_that_keeps_failing_has_its_circuit_opened_alone_and_closed_after_a_good_trial()
    {
        _proxy.Always = new HttpFault.Status(500);
        var client = TestClients.Xrpc(TestClients.FastOptions(o =>
        {
            o.MaxRetries = 0;
            o.CircuitFailureThreshold = 3;
            o.CircuitBreakDuration = TimeSpan.FromMilliseconds(500);
        }));

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(XrpcErrorKind.ServerError, (await Assert.ThrowsAsync<XrpcException>(() => client.ListReposPageAsync(_proxy.BaseAddress))).Kind);
        }

        var open = await Assert.ThrowsAsync<XrpcException>(() => client.ListReposPageAsync(_proxy.BaseAddress));
        Assert.Equal(XrpcErrorKind.CircuitOpen, open.Kind);
        Assert.Equal(3, _proxy.Requests);
        await client.ListReposPageAsync(_other.BaseAddress).WaitAsync(Timeout); // another host is unaffected

        _proxy.Always = null;
        await Task.Delay(600);
        await client.ListReposPageAsync(_proxy.BaseAddress).WaitAsync(Timeout);
        await client.ListReposPageAsync(_proxy.BaseAddress).WaitAsync(Timeout);
        Assert.Equal(5, _proxy.Requests);
    }

    [Fact]
    public async Task Requests_to_one_host_are_spaced_by_its_rate_limit()
    {
        var client = TestClients.Xrpc(TestClients.FastOptions(o => { o.RequestsPerSecondPerHost = 5; o.BurstPerHost = 1; }));

        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => client.ListReposPageAsync(_proxy.BaseAddress)));
        var limited = watch.Elapsed;

        watch.Restart();
        await client.ListReposPageAsync(_other.BaseAddress).WaitAsync(Timeout);
        var otherHost = watch.Elapsed;

        // 1 at once, then 5 more at 5 per second: about a second.
        Assert.True(limited >= TimeSpan.FromMilliseconds(800), $"6 requests at 5/s took {limited.TotalMilliseconds} ms");
        Assert.True(otherHost < TimeSpan.FromMilliseconds(500), $"another host waited {otherHost.TotalMilliseconds} ms");
    }
}
