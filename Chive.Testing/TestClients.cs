using Chive.AtProto;
using Chive.AtProto.Identity;
using Chive.AtProto.Net;
using Chive.AtProto.Xrpc;
using Microsoft.Extensions.Logging.Abstractions;

namespace Chive.Testing;

/// <summary>The client stack as the workers build it, with loopback allow-listed (the test servers live there).</summary>
public static class TestClients
{
    public static readonly SsrfOptions LoopbackAllowed = new()
    {
        AllowedHosts = ["localhost"],
        AllowedNetworks = ["127.0.0.0/8", "::1/128"],
    };

    /// <summary>Fast and generous, so tests that are not about politeness are not slowed by it.</summary>
    public static XrpcOptions FastOptions(Action<XrpcOptions>? configure = null)
    {
        var options = new XrpcOptions
        {
            RequestsPerSecondPerHost = 1000,
            BurstPerHost = 1000,
            RequestTimeout = TimeSpan.FromSeconds(20),
            RetryBaseDelay = TimeSpan.FromMilliseconds(20),
            RetryMaxDelay = TimeSpan.FromMilliseconds(100),
        };
        configure?.Invoke(options);
        return options;
    }

    public static PoliteHttp Http(XrpcOptions? options = null, SsrfOptions? ssrf = null, IHostPacing? sharedPacing = null) =>
        AtProtoExtensions.CreatePoliteHttp(
            new SsrfGuard(ssrf ?? LoopbackAllowed), options ?? FastOptions(), TimeProvider.System, NullLoggerFactory.Instance, sharedPacing);

    public static XrpcClient Xrpc(XrpcOptions? options = null) => new(Http(options));

    public static DidResolver Resolver(Uri plc, Action<IdentityOptions>? configure = null, PoliteHttp? http = null, IDidDocumentCache? shared = null)
    {
        var options = new IdentityOptions { PlcDirectoryUrl = plc };
        configure?.Invoke(options);
        return new DidResolver(http ?? Http(), new SsrfGuard(LoopbackAllowed), options, TimeProvider.System, shared);
    }
}
