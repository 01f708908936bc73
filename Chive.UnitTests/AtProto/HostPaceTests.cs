using Chive.AtProto.Xrpc;
using Microsoft.Extensions.Time.Testing;

namespace Chive.UnitTests.AtProto;

/// <summary>
/// This process's own pace per host (<see cref="HostPoliteness"/>), on a clock the test moves: the burst at once, the
/// rate after it, a slot too far away refused without being taken, a host left alone regains its burst, and a request
/// cancelled while it waits frees only a circuit trial of its own.
/// </summary>
public sealed class HostPaceTests
{
    private readonly FakeTimeProvider _time = new();

    private HostPoliteness Politeness(double rate, int burst, TimeSpan maxWait) => new(new XrpcOptions
    {
        RequestsPerSecondPerHost = rate,
        BurstPerHost = burst,
        MaxRateLimitWait = maxWait,
    }, _time);

    [Fact]
    public async Task The_burst_goes_at_once_and_the_rate_spaces_what_follows()
    {
        var politeness = Politeness(rate: 10, burst: 3, TimeSpan.FromSeconds(60));
        for (var i = 0; i < 3; i++)
        {
            Assert.True(politeness.AcquireAsync("pds.example", "m", CancellationToken.None).IsCompleted, $"request {i + 1} of the burst waited");
        }

        var fourth = politeness.AcquireAsync("pds.example", "m", CancellationToken.None).AsTask();
        var fifth = politeness.AcquireAsync("pds.example", "m", CancellationToken.None).AsTask();
        Assert.True(politeness.AcquireAsync("other.example", "m", CancellationToken.None).IsCompleted, "another host waited");

        _time.Advance(TimeSpan.FromMilliseconds(99));
        Assert.False(fourth.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        await fourth.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.False(fifth.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(100));
        await fifth.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_request_cancelled_while_it_waits_frees_no_trial_but_its_own()
    {
        var politeness = new HostPoliteness(new XrpcOptions
        {
            RequestsPerSecondPerHost = 0.01, // a slot every 100 s: a request waits far longer than the circuit's break
            BurstPerHost = 1,
            MaxRateLimitWait = TimeSpan.FromSeconds(1000),
            CircuitFailureThreshold = 1,
            CircuitBreakDuration = TimeSpan.FromSeconds(30),
        }, _time);
        Assert.False(await politeness.AcquireAsync("pds.example", "m", CancellationToken.None)); // the closed circuit: no trial
        using var cancel = new CancellationTokenSource();
        var waiting = politeness.AcquireAsync("pds.example", "m", cancel.Token).AsTask(); // entered closed, waits 100 s

        politeness.ReportFailure("pds.example"); // the circuit opens for 30 s
        _time.Advance(TimeSpan.FromSeconds(31));
        var trial = politeness.AcquireAsync("pds.example", "m", CancellationToken.None).AsTask(); // the one trial, waiting its slot
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(5)));

        // The cancelled request held no trial: the trial is still in flight, so a third is refused.
        var third = await Assert.ThrowsAsync<XrpcException>(() => politeness.AcquireAsync("pds.example", "m", CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(XrpcErrorKind.CircuitOpen, third.Kind);

        // The trial abandoned by its own caller frees it.
        _time.Advance(TimeSpan.FromSeconds(1000));
        Assert.True(await trial.WaitAsync(TimeSpan.FromSeconds(5)));
        politeness.ReportAbandoned("pds.example", heldTrial: true);
        Assert.True(await politeness.AcquireAsync("pds.example", "m", CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task A_slot_further_away_than_we_wait_is_refused_at_once_and_not_taken()
    {
        var politeness = Politeness(rate: 1, burst: 1, TimeSpan.FromSeconds(2));
        await politeness.AcquireAsync("pds.example", "m", CancellationToken.None); // now
        var second = politeness.AcquireAsync("pds.example", "m", CancellationToken.None).AsTask(); // in 1 s
        var third = politeness.AcquireAsync("pds.example", "m", CancellationToken.None).AsTask(); // in 2 s: the longest we wait

        var refused = await Assert.ThrowsAsync<XrpcException>(() => politeness.AcquireAsync("pds.example", "m", CancellationToken.None).AsTask());
        Assert.Equal(XrpcErrorKind.RateLimited, refused.Kind);

        _time.Advance(TimeSpan.FromSeconds(2));
        await Task.WhenAll(second, third).WaitAsync(TimeSpan.FromSeconds(5));
        // The refused request took no slot: the next one is due one interval after the third, not two.
        var next = politeness.AcquireAsync("pds.example", "m", CancellationToken.None).AsTask();
        _time.Advance(TimeSpan.FromSeconds(1));
        await next.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void A_host_left_alone_regains_its_burst_and_no_more()
    {
        var politeness = Politeness(rate: 5, burst: 2, TimeSpan.FromSeconds(60));
        Assert.True(politeness.AcquireAsync("pds.example", "m", CancellationToken.None).IsCompleted);
        Assert.True(politeness.AcquireAsync("pds.example", "m", CancellationToken.None).IsCompleted);
        Assert.False(politeness.AcquireAsync("pds.example", "m", CancellationToken.None).IsCompleted);

        _time.Advance(TimeSpan.FromMinutes(10)); // idle long after its slots
        Assert.True(politeness.AcquireAsync("pds.example", "m", CancellationToken.None).IsCompleted);
        Assert.True(politeness.AcquireAsync("pds.example", "m", CancellationToken.None).IsCompleted);
        Assert.False(politeness.AcquireAsync("pds.example", "m", CancellationToken.None).IsCompleted, "an idle host saved more than its burst");
    }
}
