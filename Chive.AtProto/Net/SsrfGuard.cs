using System.Net;
using System.Net.Sockets;

namespace Chive.AtProto.Net;

/// <summary>The guard refused an outbound request: a forbidden scheme, or a host that is (or resolves to) a forbidden address.</summary>
public sealed class SsrfRefusedException(string message) : Exception(message);

/// <summary>
/// Keeps requests built from user-controlled data (PDS endpoints in DID documents, did:web hosts, blob URLs) away from
/// anything but the public internet. Used as the connect callback of the HTTP handler, so the address checked is the
/// address connected to (no gap for DNS rebinding), for the first request and for every redirect.
/// </summary>
public sealed class SsrfGuard
{
    /// <summary>Never reachable unless allow-listed. Addresses embedded in IPv6 (mapped, NAT64, 6to4) are checked as IPv4.</summary>
    private static readonly IPNetwork[] Forbidden =
    [
        IPNetwork.Parse("0.0.0.0/8"),          // "this network", unspecified
        IPNetwork.Parse("10.0.0.0/8"),         // RFC 1918
        IPNetwork.Parse("100.64.0.0/10"),      // carrier-grade NAT (also Alibaba's metadata 100.100.100.200)
        IPNetwork.Parse("127.0.0.0/8"),        // loopback
        IPNetwork.Parse("169.254.0.0/16"),     // link-local, cloud metadata 169.254.169.254
        IPNetwork.Parse("172.16.0.0/12"),      // RFC 1918
        IPNetwork.Parse("192.0.0.0/24"),       // IETF protocol assignments
        IPNetwork.Parse("192.0.2.0/24"),       // documentation
        IPNetwork.Parse("192.88.99.0/24"),     // 6to4 relay anycast
        IPNetwork.Parse("192.168.0.0/16"),     // RFC 1918
        IPNetwork.Parse("198.18.0.0/15"),      // benchmarking
        IPNetwork.Parse("198.51.100.0/24"),    // documentation
        IPNetwork.Parse("203.0.113.0/24"),     // documentation
        IPNetwork.Parse("224.0.0.0/4"),        // multicast
        IPNetwork.Parse("240.0.0.0/4"),        // reserved, broadcast
        IPNetwork.Parse("168.63.129.16/32"),   // Azure's platform endpoint (metadata, DNS)
        IPNetwork.Parse("::/128"),             // unspecified
        IPNetwork.Parse("::1/128"),            // loopback
        IPNetwork.Parse("100::/64"),           // discard
        IPNetwork.Parse("2001:db8::/32"),      // documentation
        IPNetwork.Parse("fc00::/7"),           // unique local (also AWS's IPv6 metadata fd00:ec2::254)
        IPNetwork.Parse("fe80::/10"),          // link-local
        IPNetwork.Parse("fec0::/10"),          // site-local (deprecated)
        IPNetwork.Parse("ff00::/8"),           // multicast
        IPNetwork.Parse("64:ff9b:1::/48"),     // local-use NAT64 (RFC 8215): translates to whatever the local network chose
    ];

    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");
    private static readonly IPNetwork SixToFour = IPNetwork.Parse("2002::/16");
    private static readonly IPNetwork IPv4Compatible = IPNetwork.Parse("::/96");
    private static readonly IPNetwork Siit = IPNetwork.Parse("::ffff:0:0:0/96");

    private readonly HashSet<string> _allowedHosts;
    private readonly IPNetwork[] _allowedNetworks;

    public SsrfGuard(SsrfOptions options)
    {
        _allowedHosts = new HashSet<string>(options.AllowedHosts.Select(h => h.Trim().TrimEnd('.')), StringComparer.OrdinalIgnoreCase);
        _allowedNetworks = options.AllowedNetworks.Select(n => IPNetwork.Parse(n.Trim())).ToArray();
    }

    /// <summary>A guard that allows only public addresses.</summary>
    public static SsrfGuard Strict { get; } = new(new SsrfOptions());

    /// <summary>Why <paramref name="address"/> may not be reached, or null when it may.</summary>
    public string? Refusal(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (_allowedNetworks.Any(n => n.Contains(address)))
        {
            return null;
        }

        foreach (var network in Forbidden)
        {
            if (network.Contains(address))
            {
                return $"{address} is in the forbidden range {network}";
            }
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6 && EmbeddedIPv4(address) is { } embedded)
        {
            return Refusal(embedded) is { } reason ? $"{address} embeds {embedded}: {reason}" : null;
        }

        return null;
    }

    /// <summary>
    /// Only http and https, and no host written as a legacy IPv4 literal (hex <c>0x7f.1</c>, octal <c>0177.0.0.1</c>,
    /// short <c>127.1</c>, one number <c>2130706433</c>): parsers disagree on those, so they are refused however they
    /// would resolve. Nothing else is ever fetched.
    /// </summary>
    public static string? SchemeRefusal(Uri uri)
    {
        if (!uri.IsAbsoluteUri || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            return $"only http and https URLs are fetched, not '{(uri.IsAbsoluteUri ? uri.Scheme : uri.OriginalString)}'";
        }

        return WrittenHost(uri.OriginalString) is { } written && IsLegacyIPv4(written)
            ? $"the host '{written}' is an IPv4 address in a legacy spelling; only dotted decimal is accepted"
            : null;
    }

    /// <summary>
    /// True for a host that C's <c>inet_aton</c> would read as an IPv4 address but that is not plain dotted decimal:
    /// one to four parts, each decimal, octal (leading 0) or hex (0x), other than four decimal parts without leading zeros.
    /// </summary>
    public static bool IsLegacyIPv4(string host)
    {
        var parts = host.TrimEnd('.').Split('.');
        if (parts.Length is < 1 or > 4 || parts.Any(p => p.Length == 0))
        {
            return false;
        }

        static bool IsNumber(string p) =>
            p.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? p[2..].All(Uri.IsHexDigit) : p.All(char.IsAsciiDigit);
        if (!parts.All(IsNumber))
        {
            return false;
        }

        var canonical = parts.Length == 4 && parts.All(p => p.All(char.IsAsciiDigit) && (p == "0" || p[0] != '0') && p.Length <= 3 && int.Parse(p, System.Globalization.CultureInfo.InvariantCulture) <= 255);
        return !canonical || host.EndsWith('.');
    }

    /// <summary>The host as it was written in <paramref name="url"/> (before any parser canonicalised it), or null.</summary>
    private static string? WrittenHost(string url)
    {
        var start = url.IndexOf("://", StringComparison.Ordinal);
        if (start < 0)
        {
            return null;
        }

        var authority = url[(start + 3)..];
        var end = authority.IndexOfAny(['/', '?', '#', '\\']);
        authority = end < 0 ? authority : authority[..end];
        authority = authority[(authority.LastIndexOf('@') + 1)..];
        if (authority.StartsWith('['))
        {
            return null; // an IPv6 literal: checked by address
        }

        var colon = authority.LastIndexOf(':');
        return colon < 0 ? authority : authority[..colon];
    }

    /// <summary>
    /// Checks a URL without connecting: the scheme, then every address its host resolves to (all must be allowed,
    /// so a name with one public and one private address is refused). Returns the allowed addresses.
    /// </summary>
    public async Task<IPAddress[]> CheckAsync(Uri uri, CancellationToken cancellationToken = default)
    {
        if (SchemeRefusal(uri) is { } schemeRefusal)
        {
            throw new SsrfRefusedException(schemeRefusal);
        }

        return await ResolveAsync(uri.IdnHost, cancellationToken);
    }

    /// <summary>The connect callback for <see cref="SocketsHttpHandler"/>: resolve, check, connect to a checked address.</summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var addresses = await ResolveAsync(context.DnsEndPoint.Host, cancellationToken);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, cancellationToken);

            // Belt and braces: the peer we reached is one of the addresses we checked.
            if (socket.RemoteEndPoint is IPEndPoint remote && Refusal(remote.Address) is { } late && !IsAllowedHost(context.DnsEndPoint.Host))
            {
                throw new SsrfRefusedException($"connected to a forbidden address: {late}");
            }

            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private bool IsAllowedHost(string host) => _allowedHosts.Contains(host.TrimEnd('.'));

    private async Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        host = host.Trim('[', ']');
        if (IsLegacyIPv4(host) && !IsAllowedHost(host))
        {
            throw new SsrfRefusedException($"refusing {host}: an IPv4 address in a legacy spelling");
        }

        if (IPAddress.TryParse(host, out var literal))
        {
            return Refusal(literal) is { } reason && !IsAllowedHost(host)
                ? throw new SsrfRefusedException($"refusing {host}: {reason}")
                : [literal];
        }

        IPAddress[] addresses;
        try
        {
            addresses = await Dns.GetHostAddressesAsync(host, cancellationToken);
        }
        catch (SocketException ex)
        {
            throw new HttpRequestException(HttpRequestError.NameResolutionError, $"cannot resolve host '{host}': {ex.Message}", ex);
        }

        if (addresses.Length == 0)
        {
            throw new HttpRequestException(HttpRequestError.NameResolutionError, $"host '{host}' has no addresses");
        }

        if (IsAllowedHost(host))
        {
            return addresses;
        }

        foreach (var address in addresses)
        {
            if (Refusal(address) is { } reason)
            {
                throw new SsrfRefusedException($"refusing host '{host}': {reason}");
            }
        }

        return addresses;
    }

    private static IPAddress? EmbeddedIPv4(IPAddress v6)
    {
        var bytes = v6.GetAddressBytes();
        if (Nat64.Contains(v6))
        {
            return new IPAddress(bytes.AsSpan(12, 4));
        }

        if (SixToFour.Contains(v6))
        {
            return new IPAddress(bytes.AsSpan(2, 4));
        }

        // IPv4-compatible (::a.b.c.d, deprecated but still routed by some stacks) and SIIT (::ffff:0:a.b.c.d).
        if (IPv4Compatible.Contains(v6) || Siit.Contains(v6))
        {
            return new IPAddress(bytes.AsSpan(12, 4));
        }

        return null;
    }
}
