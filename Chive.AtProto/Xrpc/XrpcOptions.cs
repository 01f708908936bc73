using System.ComponentModel.DataAnnotations;

namespace Chive.AtProto.Xrpc;

/// <summary>Settings under <c>AtProto:Xrpc</c>: how politely and how carefully we read from PDSes.</summary>
public sealed class XrpcOptions
{
    /// <summary>Sustained requests per second to one host (PDS) (default 5).</summary>
    [Range(0.01, 10_000)]
    public double RequestsPerSecondPerHost { get; set; } = 5;

    /// <summary>Requests one host may receive back to back before the rate applies (default 5).</summary>
    [Range(1, 10_000)]
    public int BurstPerHost { get; set; } = 5;

    /// <summary>Timeout of one attempt, headers and body (default 20 s).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Attempts after the first, for 429, 5xx, timeouts and connection failures only (default 3).</summary>
    [Range(0, 10)]
    public int MaxRetries { get; set; } = 3;

    /// <summary>First retry delay; doubles per attempt with full jitter (default 500 ms).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Longest retry delay (default 10 s).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Longest <c>Retry-After</c> / <c>RateLimit-Reset</c> wait we sit out; a host asking for longer gets a typed
    /// rate-limited error at once, so the operation can move on and come back (default 60 s).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan MaxRateLimitWait { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Consecutive failures (5xx, timeouts, connection errors) that open a host's circuit (default 5).</summary>
    [Range(1, 1000)]
    public int CircuitFailureThreshold { get; set; } = 5;

    /// <summary>How long an open circuit refuses requests to that host before one trial (default 30 s).</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan CircuitBreakDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Largest JSON response body read (default 5 MiB; a listRecords page of 100 records is well under).</summary>
    [Range(1024, long.MaxValue)]
    public long MaxJsonBytes { get; set; } = 5 * 1024 * 1024;

    /// <summary>Largest blob streamed by getBlob (default 100 MiB, the lexicons' largest blob).</summary>
    [Range(1024, long.MaxValue)]
    public long MaxBlobBytes { get; set; } = 100L * 1024 * 1024;

    /// <summary>Largest repository CAR streamed by getRepo (default 1 GiB).</summary>
    [Range(1024, long.MaxValue)]
    public long MaxRepoBytes { get; set; } = 1024L * 1024 * 1024;

    /// <summary>Hosts whose politeness state is kept; idle ones beyond this are forgotten (default 10,000).</summary>
    [Range(10, 10_000_000)]
    public int MaxTrackedHosts { get; set; } = 10_000;
}
