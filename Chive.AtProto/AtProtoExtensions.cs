using System.Net;
using Chive.AtProto.Identity;
using Chive.AtProto.Net;
using Chive.AtProto.Xrpc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Chive.AtProto;

public static class AtProtoExtensions
{
    public const string SectionName = "AtProto";

    /// <summary>
    /// Registers <see cref="XrpcClient"/>, <see cref="DidResolver"/> and the <see cref="SsrfGuard"/> with settings from
    /// <c>AtProto:Xrpc</c>, <c>AtProto:Identity</c> and <c>AtProto:Ssrf</c>. Their HttpClient is built here, not by
    /// the HttpClient factory, so the service defaults' resilience handler never stacks a second retry layer on ours.
    /// An <see cref="IHostPacing"/> registered by the service (before or after this call) paces each host across processes;
    /// an <see cref="IDidDocumentCache"/> shares the DID documents they resolve.
    /// </summary>
    public static IHostApplicationBuilder AddAtProtoClient(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<XrpcOptions>().BindConfiguration($"{SectionName}:Xrpc").ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<IdentityOptions>().BindConfiguration($"{SectionName}:Identity").ValidateDataAnnotations().ValidateOnStart();
        builder.AddSsrfGuard();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(sp => CreatePoliteHttp(
            sp.GetRequiredService<SsrfGuard>(),
            sp.GetRequiredService<IOptions<XrpcOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>(),
            sp.GetService<IHostPacing>()));
        builder.Services.AddSingleton<XrpcClient>();
        builder.Services.AddSingleton(sp => new DidResolver(
            sp.GetRequiredService<PoliteHttp>(),
            sp.GetRequiredService<SsrfGuard>(),
            sp.GetRequiredService<IOptions<IdentityOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<IDidDocumentCache>(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger<DidResolver>()));
        return builder;
    }

    /// <summary>The <see cref="SsrfGuard"/> alone, with <c>AtProto:Ssrf</c> (for a service that checks URLs it does not fetch).</summary>
    public static IHostApplicationBuilder AddSsrfGuard(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<SsrfOptions>().BindConfiguration($"{SectionName}:Ssrf")
            .Validate(o => o.AllowedNetworks.All(n => IPNetwork.TryParse(n, out _)), "AtProto:Ssrf:AllowedNetworks holds a value that is not a CIDR network")
            .ValidateOnStart();
        builder.Services.AddSingleton(sp => new SsrfGuard(sp.GetRequiredService<IOptions<SsrfOptions>>().Value));
        return builder;
    }

    /// <summary>The guarded, polite HTTP stack on its own (also what tests build).</summary>
    public static PoliteHttp CreatePoliteHttp(
        SsrfGuard guard, XrpcOptions options, TimeProvider time, ILoggerFactory loggerFactory, IHostPacing? sharedPacing = null)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = guard.ConnectAsync,      // every connection, redirects included, goes to a checked address
            ConnectTimeout = TimeSpan.FromSeconds(10),
            UseProxy = false,                          // a proxy would make the guard check the proxy, not the target
            UseCookies = false,
            AllowAutoRedirect = true,                  // http(s) only; each new host is checked by the connect callback
            MaxAutomaticRedirections = 3,
            AutomaticDecompression = DecompressionMethods.All,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            MaxConnectionsPerServer = 8,
        };
        var client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.UserAgent.ParseAdd("chive-backfill/1.0 (+https://chive.pub)");
        return new PoliteHttp(client, options, time, loggerFactory.CreateLogger<PoliteHttp>(), sharedPacing);
    }
}
