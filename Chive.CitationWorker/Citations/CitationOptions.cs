using System.ComponentModel.DataAnnotations;

namespace Chive.CitationWorker.Citations;

/// <summary>Settings under <c>Citations</c>: the size of a unit of work and how many eprints are in flight.</summary>
public sealed class CitationOptions
{
    public const string SectionName = "Citations";

    /// <summary>Eprints per unit of work (default 500); the last URI of a unit is the checkpoint.</summary>
    [Range(1, 10_000)]
    public int EprintsPerChunk { get; set; } = 500;

    /// <summary>Progress is reported every this many eprints (default 10).</summary>
    [Range(1, 10_000)]
    public int ProgressEvery { get; set; } = 10;

    /// <summary>
    /// Eprints extracted at once within a unit (default 6): enough to keep GROBID's pool busy while other eprints wait
    /// for Semantic Scholar or Crossref, whose own limits pace the requests whatever this is.
    /// </summary>
    [Range(1, 64)]
    public int EprintConcurrency { get; set; } = 6;

    /// <summary>The largest document fetched (default 50 MiB, the lexicon's limit for a submission's document).</summary>
    [Range(1024, 1L << 32)]
    public long MaxPdfBytes { get; set; } = 50L * 1024 * 1024;
}

/// <summary>Settings under <c>Citations:Grobid</c> (its URL is <c>ConnectionStrings:grobid</c>).</summary>
public sealed class GrobidOptions
{
    public const string SectionName = "Citations:Grobid";

    /// <summary>Requests in flight at most (default 4): no more than GROBID's pool, or it answers 503.</summary>
    [Range(1, 256)]
    public int Concurrency { get; set; } = 4;

    /// <summary>How long one document may take (default 120 s, GROBID's own pdfalto limit).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan DocumentTimeout { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>The wait before sending a document again after a 503 without Retry-After (default 4 s; GROBID suggests 3–6 s).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan BusyRetryDelay { get; set; } = TimeSpan.FromSeconds(4);

    /// <summary>
    /// How long one document may wait for a busy GROBID in all (default 15 min): 503 is back-pressure, not failure, but an
    /// operation must not wait for ever on a GROBID that never frees a thread. After this, the document counts as a failure.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan MaxBusyWait { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>The most references kept from one document (default 2,000).</summary>
    [Range(1, 100_000)]
    public int MaxReferences { get; set; } = 2000;

    /// <summary>The largest TEI answer read (default 20 MiB).</summary>
    [Range(1024, 1L << 31)]
    public long MaxTeiBytes { get; set; } = 20L * 1024 * 1024;
}

/// <summary>Settings under <c>Citations:SemanticScholar</c>.</summary>
public sealed class SemanticScholarOptions
{
    public const string SectionName = "Citations:SemanticScholar";

    [Required]
    public Uri BaseUrl { get; set; } = new("https://api.semanticscholar.org/graph/v1/");

    /// <summary>The API key sent as <c>x-api-key</c> (a secret; none: the shared unauthenticated pool).</summary>
    public string? ApiKey { get; set; }

    /// <summary>Requests per second at most, across this worker (default 1: what a new key is granted).</summary>
    [Range(0.01, 100)]
    public double RequestsPerSecond { get; set; } = 1;

    /// <summary>
    /// Added to the spacing of requests (default 25 ms). S2 sees our requests' gaps after the network has blurred them, and
    /// a gap narrower than its limit is a 429; this absorbs that jitter (at 1 request/s it costs 2.5 % of the rate).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:10")]
    public TimeSpan PacingMargin { get; set; } = TimeSpan.FromMilliseconds(25);

    /// <summary>
    /// Requests in flight at most (default 1). S2 limits the rate, not concurrency, but requests sent side by side reach
    /// it with their spacing blurred by the network, and a gap narrower than its limit is a 429: raise this only when
    /// one answer takes longer than <c>1 / RequestsPerSecond</c>.
    /// </summary>
    [Range(1, 16)]
    public int Concurrency { get; set; } = 1;

    /// <summary>References per page of <c>/paper/{id}/references</c> (default 1000, the API's maximum).</summary>
    [Range(1, 1000)]
    public int PageSize { get; set; } = 1000;

    /// <summary>Pages read per eprint at most (default 20, i.e. 20,000 references): a hostile <c>next</c> ends.</summary>
    [Range(1, 1000)]
    public int MaxPages { get; set; } = 20;

    /// <summary>How long answers are kept (default 7 days).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "365.00:00:00")]
    public TimeSpan CacheTtl { get; set; } = TimeSpan.FromDays(7);

    /// <summary>One request's timeout (default 30 s).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Attempts per request after 429, 5xx or a timeout (default 6, as S2's own backoff example).</summary>
    [Range(1, 20)]
    public int MaxAttempts { get; set; } = 6;

    /// <summary>The longest Retry-After sat out (default 5 min); a longer one fails the lookup.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The largest answer read (default 16 MiB; the batch endpoint answers up to 10 MB).</summary>
    [Range(1024, 1L << 31)]
    public long MaxResponseBytes { get; set; } = 16L * 1024 * 1024;
}

/// <summary>Settings under <c>Citations:Crossref</c>.</summary>
public sealed class CrossrefOptions
{
    public const string SectionName = "Citations:Crossref";

    [Required]
    public Uri BaseUrl { get; set; } = new("https://api.crossref.org/");

    /// <summary>The contact address put in the User-Agent (<c>mailto:</c>), which puts us in the polite pool. Warned about when unset.</summary>
    public string? Mailto { get; set; }

    /// <summary>
    /// Requests per second at most, whatever Crossref's headers allow (default 10, the polite pool's single-DOI rate).
    /// The pace actually used is the lower of this and <c>x-rate-limit-limit</c> / <c>x-rate-limit-interval</c>.
    /// </summary>
    [Range(0.01, 1000)]
    public double MaxRequestsPerSecond { get; set; } = 10;

    /// <summary>Requests in flight at most, whatever the headers allow (default 3); the lower of this and <c>x-concurrency-limit</c>.</summary>
    [Range(1, 100)]
    public int MaxConcurrency { get; set; } = 3;

    /// <summary>How long answers, including "not found", are kept (default 30 days: published metadata rarely changes).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "365.00:00:00")]
    public TimeSpan CacheTtl { get; set; } = TimeSpan.FromDays(30);

    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    [Range(1, 20)]
    public int MaxAttempts { get; set; } = 5;

    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromMinutes(5);

    [Range(1024, 1L << 31)]
    public long MaxResponseBytes { get; set; } = 4L * 1024 * 1024;
}
