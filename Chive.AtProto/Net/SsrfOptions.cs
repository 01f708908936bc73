namespace Chive.AtProto.Net;

/// <summary>
/// Settings under <c>AtProto:Ssrf</c>. Nothing is allowed beyond public unicast addresses unless listed here; tests and
/// local development list loopback.
/// </summary>
public sealed class SsrfOptions
{
    /// <summary>Host names reachable whatever they resolve to (exact, case-insensitive), e.g. <c>localhost</c>.</summary>
    public List<string> AllowedHosts { get; set; } = [];

    /// <summary>Networks (CIDR, e.g. <c>127.0.0.0/8</c>, <c>::1/128</c>) reachable although private or special.</summary>
    public List<string> AllowedNetworks { get; set; } = [];
}
