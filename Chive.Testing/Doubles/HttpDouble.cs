using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Chive.Testing.Doubles;

/// <summary>
/// A small HTTP server of our own on a random loopback port, standing in for a server that cannot run on these
/// machines (Elasticsearch, GROBID). Each double speaks the real wire format for the routes it serves and says in
/// its summary what it does not check.
/// </summary>
public abstract class HttpDouble : IAsyncDisposable
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private WebApplication? _app;

    public Uri BaseAddress { get; private set; } = null!;

    public int Port => BaseAddress.Port;

    protected async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        Map(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        BaseAddress = new Uri(address.TrimEnd('/') + "/");
        _app = app;
    }

    protected abstract void Map(WebApplication app);

    /// <summary>
    /// Time since the double was created, on a monotonic clock: request logs use it so that tests can measure rates
    /// and gaps without the wall clock jumping under them.
    /// </summary>
    protected TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>
    /// The request path exactly as the client sent it, still percent-encoded. Kestrel decodes the path it routes on
    /// but keeps <c>%2F</c>, so a DOI with its slash escaped and one with it bare would arrive differently; decoding the
    /// raw target once treats both alike (and never decodes twice).
    /// </summary>
    protected static string RawPath(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "";
        var query = raw.IndexOf('?', StringComparison.Ordinal);
        return query < 0 ? raw : raw[..query];
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
            _app = null;
        }

        GC.SuppressFinalize(this);
    }
}
