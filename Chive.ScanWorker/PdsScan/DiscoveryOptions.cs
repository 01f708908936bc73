using System.ComponentModel.DataAnnotations;

namespace Chive.ScanWorker.PdsScan;

/// <summary>
/// Settings under <c>Discovery</c>: where a PDS scan of everything due first looks for PDSes nobody has named yet, and
/// how much it reads there per run.
/// </summary>
public sealed class DiscoveryOptions : IValidatableObject
{
    public const string SectionName = "Discovery";

    /// <summary>Read the PLC directory's export (<c>AtProto:Identity:PlcDirectoryUrl</c>) for the PDS of every DID (default on).</summary>
    public bool Plc { get; set; } = true;

    /// <summary>
    /// Where the export is read from the first time, when no cursor is stored yet (default: its beginning). A full read
    /// of plc.directory is tens of millions of operations — <see cref="MaxPlcPagesPerRun"/> a run until it has caught up —
    /// so a deployment that only cares about PDSes from now on sets this to the present.
    /// </summary>
    public DateTimeOffset? PlcStartAfter { get; set; }

    /// <summary>Pages of 1,000 operations read from the export per run at most (default 100).</summary>
    [Range(1, 100_000)]
    public int MaxPlcPagesPerRun { get; set; } = 100;

    /// <summary>A relay whose <c>com.atproto.sync.listHosts</c> is read too (default none).</summary>
    public Uri? RelayUrl { get; set; }

    /// <summary>The scheme of the hosts a relay lists (bare host names; default <c>https</c>; tests serve <c>http</c>).</summary>
    [RegularExpression("^https?$")]
    public string RelayHostScheme { get; set; } = "https";

    /// <summary>Pages of the relay's host list read per run at most (default 20).</summary>
    [Range(1, 10_000)]
    public int MaxRelayPagesPerRun { get; set; } = 20;

    /// <summary>
    /// How long one run reads one source at most (default 2 min), however slowly it answers; the next run goes on from
    /// where it stopped.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan MaxTimePerSource { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// New PDSes one run adds at most from each source (default 1,000): anyone can create DIDs naming any endpoint, so a flood of invented
    /// ones enters the registry a bounded number at a time (each then fails its way to <c>unreachable</c>).
    /// </summary>
    [Range(1, 1_000_000)]
    public int MaxNewPdsesPerRun { get; set; } = 1000;

    /// <summary>
    /// Hosts never added by discovery: an exact name, or <c>*.suffix</c> for every name under it. By default Bluesky's
    /// own PDSes (<c>*.host.bsky.network</c>, <c>bsky.social</c>), which hold millions of accounts and are the
    /// firehose's business, as in Chive. An operator can still scan one by its URL.
    /// </summary>
    public List<string> IgnoredHosts { get; set; } = ["*.bsky.network", "bsky.social"];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (RelayUrl is { } relay && (!relay.IsAbsoluteUri || relay.Scheme is not ("http" or "https")))
        {
            yield return new ValidationResult("Discovery:RelayUrl must be an http(s) URL", [nameof(RelayUrl)]);
        }
    }

    /// <summary>True when <paramref name="host"/> is one of <see cref="IgnoredHosts"/>.</summary>
    public bool Ignores(string host) => IgnoredHosts.Any(pattern => pattern.StartsWith("*.", StringComparison.Ordinal)
        ? host.EndsWith(pattern[1..], StringComparison.OrdinalIgnoreCase)
        : host.Equals(pattern, StringComparison.OrdinalIgnoreCase));
}
