using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Chive.Tests.Doubles;

/// <summary>
/// A did:web host of the test's own: serves <see cref="Document"/> at <c>/.well-known/did.json</c> over plain HTTP on
/// loopback (the resolver is configured with <c>DidWebScheme=http</c> for it). Serves nothing else.
/// </summary>
public sealed class DidWebHost : HttpDouble
{
    /// <summary>The body served (any text, so tests can serve broken documents); null answers 404.</summary>
    public string? Document { get; set; }

    public int Fetches { get; private set; }

    public string Did => $"did:web:localhost%3A{Port}";

    public static async Task<DidWebHost> StartNewAsync()
    {
        var host = new DidWebHost();
        await host.StartAsync();
        return host;
    }

    protected override void Map(WebApplication app) =>
        app.MapGet("/.well-known/did.json", () =>
        {
            Fetches++;
            return Document is null ? Results.NotFound() : Results.Text(Document, "application/json");
        });
}
