using System.ComponentModel.DataAnnotations;

namespace Chive.AtProto.Identity;

/// <summary>Settings under <c>AtProto:Identity</c>.</summary>
public sealed class IdentityOptions
{
    /// <summary>The PLC directory that resolves <c>did:plc</c> (default <c>https://plc.directory</c>).</summary>
    [Required]
    public Uri PlcDirectoryUrl { get; set; } = new("https://plc.directory");

    /// <summary>
    /// Scheme used to fetch <c>did:web</c> documents (default <c>https</c>, as the method requires; tests serving a
    /// document from a local HTTP server set <c>http</c>).
    /// </summary>
    [RegularExpression("^https?$")]
    public string DidWebScheme { get; set; } = "https";

    /// <summary>How long a resolved identity is reused (default 5 min).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan CacheTtl { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a failed resolution is remembered before it is tried again (default 30 s).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan FailureCacheTtl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Identities kept in the cache at most (default 100,000).</summary>
    [Range(1, 100_000_000)]
    public int CacheSize { get; set; } = 100_000;

    /// <summary>
    /// The longest one resolution may take, retries included (default 30 s): a directory or did:web host that answers
    /// slowly, or trickles its body, fails the resolution as <c>Unreachable</c> instead of holding its callers.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan ResolveTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Largest DID document read (default 64 KiB).</summary>
    [Range(1024, 16 * 1024 * 1024)]
    public int MaxDocumentBytes { get; set; } = 64 * 1024;
}
