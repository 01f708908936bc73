using Chive.AtProto.Xrpc;
using Microsoft.Extensions.Time.Testing;

namespace Chive.UnitTests.AtProto;

/// <summary>
/// This process's own pace per host (<see cref="HostPoliteness"/>), on a clock the test moves: the burst at once, the
/// rate after it, a slot too far away refused without being taken, and a host left alone regains its burst.
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
