using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Chive.AtProto.Xrpc;

/// <summary>
/// Per-host manners: a pace (rate and burst from <see cref="XrpcOptions"/>), a "wait until" set by
/// <c>Retry-After</c> and by <c>RateLimit-Remaining: 0</c> + <c>RateLimit-Reset</c>, and a circuit that opens after
/// consecutive failures. Each host has its own, so one slow or dead PDS never holds up another.
/// <para>
/// With an <see cref="IHostPacing"/> (the workers: PostgreSQL), the rate is also kept across processes: after this
/// process's own pace, each request reserves its host's next shared slot and waits for it, so replicas together send a
/// host no more than one process would; a slot further away than <see cref="XrpcOptions.MaxRateLimitWait"/> is refused as
/// <c>RateLimited</c>, without taking it. Should the shared pace fail or not answer within its timeout, this process's own
/// pace alone holds for <see cref="PaceAloneFor"/> and the failure is logged; the waits set by a host's headers and the
/// circuit stay per process (every replica learns them from the host's own next answer).
/// </para>
/// </summary>
internal sealed class HostPoliteness(XrpcOptions options, TimeProvider time, IHostPacing? shared = null, ILogger? logger = null)
{
    private readonly ConcurrentDictionary<string, HostState> _hosts = new(StringComparer.OrdinalIgnoreCase);
    private long _acquisitions;

    /// <summary>
    /// Waits until a request to <paramref name="host"/> may be sent. True when this request is the half-open circuit's
    /// one trial: only its own outcome (or <see cref="ReportAbandoned"/> with that flag) frees the trial.
    /// </summary>
    public async ValueTask<bool> AcquireAsync(string host, string method, CancellationToken cancellationToken)
    {
        var state = _hosts.GetOrAdd(host, _ => new HostState());
        state.LastUsed = time.GetUtcNow();
        if (Interlocked.Increment(ref _acquisitions) % 1024 == 0)
        {
            Prune();
        }

        var trial = state.EnterCircuit(time.GetUtcNow(), options, method, host);
        try
        {
            var wait = state.BlockedUntil - time.GetUtcNow();
            if (wait > TimeSpan.Zero)
            {
                if (wait > options.MaxRateLimitWait)
                {
                    throw new XrpcException(XrpcErrorKind.RateLimited, method, host,
                        $"the host asked us to wait {wait.TotalSeconds:F0} s, longer than the {options.MaxRateLimitWait.TotalSeconds:F0} s we wait");
                }

                await Task.Delay(wait, time, cancellationToken);
            }

            if (state.ReserveSlot(time, options) is not { } paced)
            {
                throw new XrpcException(XrpcErrorKind.RateLimited, method, host,
                    $"this process's next free slot for this host is more than {options.MaxRateLimitWait.TotalSeconds:F0} s away");
            }

            if (paced > TimeSpan.Zero)
            {
                await Task.Delay(paced, time, cancellationToken);
            }

            if (shared is not null)
            {
                await WaitForSharedSlotAsync(host, method, cancellationToken);
            }
        }
        catch
        {
            // No request was sent: the trial this request took must not stay taken (or the circuit never closes) — but
            // only its own: a request that entered while the circuit was closed holds none, and must not free another's.
            if (trial)
            {
                state.ReleaseTrial();
            }

            throw;
        }

        return trial;
    }

    /// <summary>
    /// Honours <c>RateLimit-Remaining</c>/<c>RateLimit-Reset</c> (epoch seconds, or a delta in seconds) and
    /// <c>Retry-After</c>. The host writes these headers, so they are read as claims: a value that cannot be parsed, lies
    /// in the past or is negative is ignored, and no host can block itself for longer than <see cref="MaxBlock"/> at a
    /// time (a longer wait than <see cref="XrpcOptions.MaxRateLimitWait"/> is refused as <c>RateLimited</c> anyway).
    /// </summary>
    public void Observe(string host, HttpResponseMessage response)
    {
        if (!_hosts.TryGetValue(host, out var state))
        {
            return;
        }

        var now = time.GetUtcNow();
        var horizon = now + MaxBlock;
        if (response.Headers.RetryAfter is { } retryAfter)
        {
            DateTimeOffset? until = retryAfter.Date is { } date ? date
                : retryAfter.Delta is { } delta && delta > TimeSpan.Zero ? (delta >= MaxBlock ? horizon : now + delta) : null;
            if (until > now)
            {
                state.BlockUntil(until.Value < horizon ? until.Value : horizon);
            }
        }

        if (Header(response, "RateLimit-Remaining") is { } remaining && remaining <= 0
            && Header(response, "RateLimit-Reset") is { } reset && reset > 0)
        {
            // atproto PDSes send the reset as epoch seconds; tolerate a delta in seconds as in the IETF draft.
            var until = reset > 1_000_000_000
                ? (reset >= horizon.ToUnixTimeSeconds() ? horizon : DateTimeOffset.FromUnixTimeSeconds(reset))
                : (reset >= MaxBlock.TotalSeconds ? horizon : now.AddSeconds(reset));
            if (until > now)
            {
                state.BlockUntil(until);
            }
        }
    }

    private async ValueTask WaitForSharedSlotAsync(string host, string method, CancellationToken cancellationToken)
    {
        if (Interlocked.Read(ref _pacedAloneUntil) > time.GetUtcNow().UtcTicks)
        {
            return;
        }

        TimeSpan? wait;
        try
        {
            wait = await shared!.ReserveAsync(host, options.RequestsPerSecondPerHost, options.BurstPerHost, options.MaxRateLimitWait, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Not asked again for a while: a pace that hangs must not add its timeout to every request.
            Interlocked.Exchange(ref _pacedAloneUntil, (time.GetUtcNow() + PaceAloneFor).UtcTicks);
            logger?.LogWarning(ex, "The shared pace per host did not answer: every host is paced by this process alone for the next {Seconds} s", PaceAloneFor.TotalSeconds);
            return;
        }

        if (wait is not { } reserved)
        {
            throw new XrpcException(XrpcErrorKind.RateLimited, method, host,
                $"the next free slot for this host is more than {options.MaxRateLimitWait.TotalSeconds:F0} s away (every replica's requests queue for it)");
        }

        if (reserved > TimeSpan.Zero)
        {
            await Task.Delay(reserved, time, cancellationToken);
        }
    }

    /// <summary>How long this process paces alone after the shared pace failed to answer, before asking it again.</summary>
    public static readonly TimeSpan PaceAloneFor = TimeSpan.FromSeconds(30);

    /// <summary>Until when (UTC ticks) this process paces alone.</summary>
    private long _pacedAloneUntil;

    /// <summary>The longest a host's own headers can keep us away from it at once.</summary>
    public static readonly TimeSpan MaxBlock = TimeSpan.FromHours(1);

    public void ReportSuccess(string host)
    {
        if (_hosts.TryGetValue(host, out var state))
        {
            state.Succeeded();
        }
    }

    /// <summary>
    /// The call ended without telling us anything about the host (the caller cancelled): the trial it held, if it was the
    /// half-open circuit's (<paramref name="heldTrial"/>, from <see cref="AcquireAsync"/>), is free again.
    /// </summary>
    public void ReportAbandoned(string host, bool heldTrial)
    {
        if (heldTrial && _hosts.TryGetValue(host, out var state))
        {
            state.ReleaseTrial();
        }
    }

    public void ReportFailure(string host)
    {
        if (_hosts.TryGetValue(host, out var state))
        {
            state.Failed(time.GetUtcNow(), options);
        }
    }

    private static long? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values)
        && long.TryParse(values.FirstOrDefault(), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var value)
            ? value
            : null;

    private void Prune()
    {
        if (_hosts.Count <= options.MaxTrackedHosts)
        {
            return;
        }

        var idleSince = time.GetUtcNow() - TimeSpan.FromMinutes(10);
        foreach (var (host, state) in _hosts)
        {
            if (state.LastUsed < idleSince)
            {
                _hosts.TryRemove(host, out _);
            }
        }
    }

    private sealed class HostState
    {
        private readonly Lock _gate = new();
        private int _consecutiveFailures;
        private DateTimeOffset? _openUntil;
        private bool _trialInFlight;
        private DateTimeOffset _blockedUntil;

        /// <summary>When the host's next request is due (a <see cref="TimeProvider"/> timestamp; see <see cref="ReserveSlot"/>).</summary>
        private long _theoreticalArrival = long.MinValue;

        /// <summary>
        /// This process's own pace for the host: the generic cell rate algorithm of the shared pace
        /// (<c>PostgresHostPacing</c>), in memory. The request takes the slot <c>max(now, TAT − (burst − 1)·interval)</c>
        /// and moves the TAT one interval on: at most <c>burst</c> requests back to back, the rate after that, in the
        /// order they asked. Returns how long to wait for the slot, or null (nothing taken) when it is further away than
        /// <see cref="XrpcOptions.MaxRateLimitWait"/>. Computed when asked: a token bucket refilled by a timer woke the
        /// thread pool every 1/rate seconds for every host this process had met, idle or not — a tenth of a core in an
        /// idle ScanWorker that had read a few PDSes at the tests' 200 per second. A slot taken by a request then
        /// cancelled stays used: the host sees fewer requests, never more.
        /// </summary>
        public TimeSpan? ReserveSlot(TimeProvider time, XrpcOptions options)
        {
            var interval = (long)(time.TimestampFrequency / options.RequestsPerSecondPerHost);
            var tolerance = interval * Math.Max(0, options.BurstPerHost - 1);
            lock (_gate)
            {
                var now = time.GetTimestamp();
                var arrival = Math.Max(_theoreticalArrival, now);
                var wait = arrival - tolerance - now;
                if (wait > options.MaxRateLimitWait.TotalSeconds * time.TimestampFrequency)
                {
                    return null;
                }

                _theoreticalArrival = arrival + interval;
                return wait > 0 ? TimeSpan.FromSeconds(wait / (double)time.TimestampFrequency) : TimeSpan.Zero;
            }
        }

        public DateTimeOffset LastUsed { get; set; }

        public DateTimeOffset BlockedUntil
        {
            get
            {
                lock (_gate)
                {
                    return _blockedUntil;
                }
            }
        }

        public void BlockUntil(DateTimeOffset until)
        {
            lock (_gate)
            {
                if (until > _blockedUntil)
                {
                    _blockedUntil = until;
                }
            }
        }

        /// <summary>Closed: pass. Open: refuse. Open and its break over: let exactly one trial through (true).</summary>
        public bool EnterCircuit(DateTimeOffset now, XrpcOptions options, string method, string host)
        {
            lock (_gate)
            {
                if (_openUntil is not { } openUntil)
                {
                    return false;
                }

                if (now < openUntil || _trialInFlight)
                {
                    throw new XrpcException(XrpcErrorKind.CircuitOpen, method, host,
                        $"{_consecutiveFailures} consecutive failures; not calling this host again before {openUntil:O}");
                }

                _trialInFlight = true;
                return true;
            }
        }

        public void ReleaseTrial()
        {
            lock (_gate)
            {
                _trialInFlight = false;
            }
        }

        public void Succeeded()
        {
            lock (_gate)
            {
                _consecutiveFailures = 0;
                _openUntil = null;
                _trialInFlight = false;
            }
        }

        public void Failed(DateTimeOffset now, XrpcOptions options)
        {
            lock (_gate)
            {
                _consecutiveFailures++;
                if (_trialInFlight || _consecutiveFailures >= options.CircuitFailureThreshold)
                {
                    _openUntil = now + options.CircuitBreakDuration;
                }

                _trialInFlight = false;
            }
        }
    }
}
