using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Chive.Testing.Doubles;

/// <summary>
/// GROBID 0.8 as far as Chive uses it so far: <c>GET /api/isalive</c> answers <c>true</c> (text/plain), like the real
/// service once its models are loaded. Does not check or serve anything else yet: <c>processReferences</c> and TEI
/// arrive with the citation issue. Set <see cref="Alive"/> to false to simulate a GROBID still loading (it answers
/// 503 then, as the real one does while busy).
/// </summary>
public sealed class GrobidDouble : HttpDouble
{
    public bool Alive { get; set; } = true;

    public static async Task<GrobidDouble> StartNewAsync()
    {
        var server = new GrobidDouble();
        await server.StartAsync();
        return server;
    }

    protected override void Map(WebApplication app) =>
        app.MapGet("/api/isalive", () => Alive
            ? Results.Text("true", "text/plain")
            : Results.StatusCode(StatusCodes.Status503ServiceUnavailable));
}
