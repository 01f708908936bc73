using System.Diagnostics;
using Chive.CitationWorker.Citations;

namespace Chive.UnitTests.Citations;

/// <summary>
/// The pacing shared by every lookup of one upstream service: the interval between starts, the cap on requests in
/// flight, a Retry-After that holds everyone back, limits changed while running, and waiters that give up.
/// <para>
/// On the real clock (Microsoft.Extensions.TimeProvider.Testing is not referenced here): intervals of a few hundred
/// milliseconds, lower bounds with a margin for the clock's grain, no upper bound tighter than seconds. "Still waiting"
/// is checked after a pause, so a slow machine can only make such a check pass, never fail.
/// </para>
/// </summary>
public sealed class UpstreamGateTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(150);

    // The gate reads the wall clock and the tests a Stopwatch: a few milliseconds of disagreement are allowed for.
    private static readonly TimeSpan Grain = TimeSpan.FromMilliseconds(20);

    [Fact]
    public async Task Requests_start_at_least_one_interval_apart()
    {
        var gate = new UpstreamGate(requestsPerSecond: 5, concurrency: 4, TimeProvider.System);
        var clock = Stopwatch.StartNew();

        var starts = await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            using var lease = await gate.EnterAsync(CancellationToken.None);
            return clock.Elapsed;
        })).WaitAsync(Patience);

        // The n-th start comes at least n - 1 intervals after the first. A start is noted when its continuation runs,
        // possibly late on a busy machine, so only the first (which does not wait, and is noted at once) is exact: gaps
        // between two later starts could look shorter than the gate made them.
        var ordered = starts.Order().ToList();
        for (var n = 1; n < ordered.Count; n++)
        {
            Assert.True(ordered[n] - ordered[0] >= n * TimeSpan.FromMilliseconds(200) - Grain, $"start {n} came {ordered[n] - ordered[0]} after the first");
        }
    }

    [Fact]
    public async Task A_request_after_a_finished_one_still_waits_its_turn()
    {
        var gate = new UpstreamGate(requestsPerSecond: 4, concurrency: 1, TimeProvider.System);
        var clock = Stopwatch.StartNew(); // before the first start, so that the measured gap is never shorter than the real one
        (await gate.EnterAsync(CancellationToken.None).WaitAsync(Patience)).Dispose();

        (await gate.EnterAsync(CancellationToken.None).WaitAsync(Patience)).Dispose();

        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(250) - Grain, $"started after {clock.Elapsed}");
    }

    [Fact]
    public async Task No_more_than_the_concurrency_are_in_flight()
    {
        var gate = new UpstreamGate(requestsPerSecond: 1000, concurrency: 2, TimeProvider.System);
        var inFlight = 0;
        var most = 0;

        await Task.WhenAll(Enumerable.Range(0, 12).Select(async _ =>
        {
            using (await gate.EnterAsync(CancellationToken.None))
            {
                var now = Interlocked.Increment(ref inFlight);
                InterlockedMax(ref most, now);
                await Task.Delay(25);
                Interlocked.Decrement(ref inFlight);
            }
        })).WaitAsync(Patience);

        Assert.Equal(2, most);
    }

    [Fact]
    public async Task A_waiter_gets_the_slot_a_lease_gives_back()
    {
        var gate = new UpstreamGate(requestsPerSecond: 1000, concurrency: 1, TimeProvider.System);
        var held = await gate.EnterAsync(CancellationToken.None).WaitAsync(Patience);
        var waiter = gate.EnterAsync(CancellationToken.None);
        await Task.Delay(Pause);
        Assert.False(waiter.IsCompleted);

        held.Dispose();

        (await waiter.WaitAsync(Patience)).Dispose();
    }

    [Fact]
    public async Task Disposing_a_lease_twice_gives_back_one_slot()
    {
        var gate = new UpstreamGate(requestsPerSecond: 1000, concurrency: 1, TimeProvider.System);
        var lease = await gate.EnterAsync(CancellationToken.None).WaitAsync(Patience);
        lease.Dispose();
        lease.Dispose();

        using var only = await gate.EnterAsync(CancellationToken.None).WaitAsync(Patience);
        var second = gate.EnterAsync(CancellationToken.None);
        await Task.Delay(Pause);

        Assert.False(second.IsCompleted);
        only.Dispose();
        (await second.WaitAsync(Patience)).Dispose();
    }

    [Fact]
    public async Task BlockUntil_delays_the_next_start()
    {
        var gate = new UpstreamGate(requestsPerSecond: 1000, concurrency: 1, TimeProvider.System);
        var clock = Stopwatch.StartNew();
        gate.BlockUntil(TimeProvider.System.GetUtcNow() + TimeSpan.FromMilliseconds(500));
        gate.BlockUntil(TimeProvider.System.GetUtcNow() + TimeSpan.FromMilliseconds(10)); // an earlier block does not shorten it

        using var lease = await gate.EnterAsync(CancellationToken.None).WaitAsync(Patience);

        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(500) - Grain, $"started after {clock.Elapsed}");
    }

    [Fact]
    public async Task Lowered_concurrency_holds_released_slots_until_in_flight_is_within_it()
    {
        var gate = new UpstreamGate(requestsPerSecond: 1000, concurrency: 3, TimeProvider.System);
        var held = new List<IDisposable>();
        for (var i = 0; i < 3; i++)
        {
            held.Add(await gate.EnterAsync(CancellationToken.None).WaitAsync(Patience));
        }

        var first = gate.EnterAsync(CancellationToken.None);
        var second = gate.EnterAsync(CancellationToken.None);

        gate.Adjust(1000, 1);
        held[0].Dispose();
        held[1].Dispose();
        await Task.Delay(Pause);
        Assert.Equal(1, gate.Concurrency);
        Assert.False(first.IsCompleted, "a slot was handed on while 2 requests were in flight under a limit of 1");
        Assert.False(second.IsCompleted);

        held[2].Dispose();
        var lease = await first.WaitAsync(Patience);
        await Task.Delay(Pause);
        Assert.False(second.IsCompleted, "two requests in flight under a limit of 1");

        lease.Dispose();
        (await second.WaitAsync(Patience)).Dispose();
    }

    [Fact]
    public async Task Raised_concurrency_wakes_the_waiters_at_once()
    {
        var gate = new UpstreamGate(requestsPerSecond: 1000, concurrency: 1, TimeProvider.System);
        using var held = await gate.EnterAsync(CancellationToken.None).WaitAsync(Patience);
        var first = gate.EnterAsync(CancellationToken.None);
        var second = gate.EnterAsync(CancellationToken.None);
        var third = gate.EnterAsync(CancellationToken.None);
        await Task.Delay(Pause);
        Assert.False(first.IsCompleted);

        gate.Adjust(1000, 3);

        using var firstLease = await first.WaitAsync(Patience);
        using var secondLease = await second.WaitAsync(Patience);
        await Task.Delay(Pause);
        Assert.False(third.IsCompleted, "four requests in flight under a limit of 3");
        secondLease.Dispose();
        (await third.WaitAsync(Patience)).Dispose();
    }

    [Fact]
    public async Task Adjust_changes_the_pace()
    {
        var gate = new UpstreamGate(requestsPerSecond: 1000, concurrency: 1, TimeProvider.System);

        gate.Adjust(4, 1);
        var clock = Stopwatch.StartNew();
        (await gate.EnterAsync(CancellationToken.None).WaitAsync(Patience)).Dispose();
        (await gate.EnterAsync(CancellationToken.None).WaitAsync(Patience)).Dispose();

        Assert.Equal(4, gate.RequestsPerSecond, 6);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(250) - Grain, $"started after {clock.Elapsed}");
    }

    [Fact]
    public async Task A_cancelled_waiter_does_not_take_a_slot_with_it()
    {
        var gate = new UpstreamGate(requestsPerSecond: 1000, concurrency: 2, TimeProvider.System);
        var a = await gate.EnterAsync(CancellationToken.None).WaitAsync(Patience);
        var b = await gate.EnterAsync(CancellationToken.None).WaitAsync(Patience);
        using var giveUp = new CancellationTokenSource();
        var waiter = gate.EnterAsync(giveUp.Token);

        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiter.WaitAsync(Patience));
        a.Dispose();
        b.Dispose();

        await AssertExactlyFreeSlots(gate, 2);
    }

    [Fact]
    public async Task A_waiter_cancelled_while_held_back_by_a_block_gives_its_slot_back()
    {
        var gate = new UpstreamGate(requestsPerSecond: 1000, concurrency: 1, TimeProvider.System);
        gate.BlockUntil(TimeProvider.System.GetUtcNow() + TimeSpan.FromMilliseconds(600));
        using var giveUp = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gate.EnterAsync(giveUp.Token).WaitAsync(Patience));

        // Were the slot kept by the cancelled request, this would wait for ever.
        (await gate.EnterAsync(CancellationToken.None).WaitAsync(Patience)).Dispose();
    }

    [Fact]
    public async Task A_waiter_cancelled_as_a_slot_is_handed_to_it_gives_the_slot_back()
    {
        var gate = new UpstreamGate(requestsPerSecond: 1000, concurrency: 1, TimeProvider.System);
        var held = await gate.EnterAsync(CancellationToken.None).WaitAsync(Patience);
        using var giveUp = new CancellationTokenSource();

        // The waiter resumes on a context that runs nothing until told to: its cancellation is seen by the waiter only
        // after the lease below has handed it the slot, the narrow race a real cancel and release can run.
        var context = new HeldBackContext();
        var waiter = context.Start(() => gate.EnterAsync(giveUp.Token));
        await giveUp.CancelAsync();
        held.Dispose();
        context.RunHeldBack();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiter.WaitAsync(Patience));
        await AssertExactlyFreeSlots(gate, 1);
    }

    /// <summary>Exactly <paramref name="slots"/> leases can be taken at once: all of them without waiting, one more not.</summary>
    private static async Task AssertExactlyFreeSlots(UpstreamGate gate, int slots)
    {
        var leases = new List<IDisposable>();
        for (var i = 0; i < slots; i++)
        {
            leases.Add(await gate.EnterAsync(CancellationToken.None).WaitAsync(Patience));
        }

        var extra = gate.EnterAsync(CancellationToken.None);
        await Task.Delay(Pause);
        Assert.False(extra.IsCompleted, $"more than {slots} requests in flight");

        leases[0].Dispose();
        (await extra.WaitAsync(Patience)).Dispose();
        foreach (var lease in leases.Skip(1))
        {
            lease.Dispose();
        }
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var seen = Volatile.Read(ref target);
        while (value > seen)
        {
            var previous = Interlocked.CompareExchange(ref target, value, seen);
            if (previous == seen)
            {
                return;
            }

            seen = previous;
        }
    }

    /// <summary>A synchronization context that queues what is posted to it until <see cref="RunHeldBack"/>.</summary>
    private sealed class HeldBackContext : SynchronizationContext
    {
        private readonly Queue<(SendOrPostCallback Callback, object? State)> _posted = new();

        public Task<T> Start<T>(Func<Task<T>> start)
        {
            var previous = Current;
            SetSynchronizationContext(this);
            try
            {
                return start();
            }
            finally
            {
                SetSynchronizationContext(previous);
            }
        }

        public override void Post(SendOrPostCallback d, object? state)
        {
            lock (_posted)
            {
                _posted.Enqueue((d, state));
            }
        }

        public void RunHeldBack()
        {
            while (true)
            {
                (SendOrPostCallback Callback, object? State) next;
                lock (_posted)
                {
                    if (!_posted.TryDequeue(out next))
                    {
                        return;
                    }
                }

                Start(() =>
                {
                    next.Callback(next.State);
                    return Task.FromResult(0);
                });
            }
        }
    }
}
