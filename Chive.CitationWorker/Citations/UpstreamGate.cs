namespace Chive.CitationWorker.Citations;

/// <summary>
/// The manners of this worker towards one upstream service (Semantic Scholar, Crossref): requests start at least
/// <c>1 / rate</c> apart, no more than <c>concurrency</c> are in flight, and none starts before a <c>Retry-After</c> the
/// service gave has passed. Rate and concurrency can change while running (Crossref announces its limits in headers).
/// One gate per service and process, shared by every eprint in flight.
/// </summary>
public sealed class UpstreamGate(double requestsPerSecond, int concurrency, TimeProvider time, TimeSpan margin = default)
{
    private readonly Lock _lock = new();
    private readonly Queue<TaskCompletionSource> _waiting = new();
    private TimeSpan _interval = Interval(requestsPerSecond) + margin;
    private int _concurrency = concurrency;
    private int _inFlight;
    private DateTimeOffset _nextStart = DateTimeOffset.MinValue;
    private DateTimeOffset _blockedUntil = DateTimeOffset.MinValue;

    /// <summary>The pace in use, margin included.</summary>
    public double RequestsPerSecond => 1 / _interval.TotalSeconds;

    public int Concurrency => _concurrency;

    /// <summary>Waits for a free slot and for the request's turn; dispose the lease when the answer has been read.</summary>
    public async Task<IDisposable> EnterAsync(CancellationToken cancellationToken)
    {
        await TakeSlotAsync(cancellationToken);
        try
        {
            while (true)
            {
                TimeSpan wait;
                lock (_lock)
                {
                    var now = time.GetUtcNow();
                    var start = Max(Max(now, _nextStart), _blockedUntil);
                    wait = start - now;
                    if (wait <= TimeSpan.Zero)
                    {
                        _nextStart = now + _interval;
                        return new Lease(this);
                    }
                }

                await Task.Delay(wait, time, cancellationToken);
            }
        }
        catch
        {
            Release();
            throw;
        }
    }

    /// <summary>No request starts before <paramref name="until"/> (a Retry-After, a 429 without one).</summary>
    public void BlockUntil(DateTimeOffset until)
    {
        lock (_lock)
        {
            _blockedUntil = Max(_blockedUntil, until);
        }
    }

    /// <summary>Slows to what the service announces; never faster than configured (the caller passes the lower value).</summary>
    public void Adjust(double requestsPerSecond, int concurrency)
    {
        lock (_lock)
        {
            _interval = Interval(requestsPerSecond) + margin;
            _concurrency = Math.Max(1, concurrency);
            while (_inFlight < _concurrency && _waiting.TryDequeue(out var next))
            {
                // Completed under the lock (continuations run elsewhere), so a waiter's cancel sees it handed or not.
                if (next.TrySetResult())
                {
                    _inFlight++;
                }
            }
        }
    }

    private async Task TakeSlotAsync(CancellationToken cancellationToken)
    {
        TaskCompletionSource waiter;
        lock (_lock)
        {
            if (_inFlight < _concurrency)
            {
                _inFlight++;
                return;
            }

            waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiting.Enqueue(waiter);
        }

        try
        {
            await waiter.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            lock (_lock)
            {
                if (waiter.TrySetCanceled(cancellationToken))
                {
                    throw; // never handed a slot: nothing to give back
                }
            }

            Release(); // handed a slot as the wait was cancelled: give it back
            throw;
        }
    }

    private void Release()
    {
        lock (_lock)
        {
            // Concurrency may have been lowered: a slot is handed on only while we are within it.
            if (_inFlight <= _concurrency)
            {
                // Hand the slot to the first waiter that has not given up (completed under the lock, see Adjust).
                while (_waiting.TryDequeue(out var next))
                {
                    if (next.TrySetResult())
                    {
                        return;
                    }
                }
            }

            _inFlight--;
        }
    }

    private static TimeSpan Interval(double requestsPerSecond) => TimeSpan.FromSeconds(1 / Math.Max(0.001, requestsPerSecond));

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private sealed class Lease(UpstreamGate gate) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                gate.Release();
            }
        }
    }
}
