using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Chive.Testing.Doubles;

/// <summary>
/// An OTLP/HTTP receiver (what the Aspire dashboard listens with, in its protobuf form): <c>POST /v1/metrics</c>,
/// <c>/v1/traces</c> and <c>/v1/logs</c> are kept as they arrived and answered 200 with an empty
/// <c>application/x-protobuf</c> body (an empty Export…ServiceResponse). Tests look for names in the bodies: protobuf
/// stores strings as their UTF-8 bytes. Does not check: decoding the messages, gzip, gRPC, partial-success answers.
/// </summary>
public sealed class OtlpReceiverDouble : HttpDouble
{
    private readonly Lock _gate = new();
    private readonly List<(string Signal, byte[] Body)> _exports = [];

    public static async Task<OtlpReceiverDouble> StartNewAsync()
    {
        var receiver = new OtlpReceiverDouble();
        await receiver.StartAsync();
        return receiver;
    }

    /// <summary>True once an export of <paramref name="signal"/> (metrics, traces, logs) contained <paramref name="text"/>.</summary>
    public bool Received(string signal, string text)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        lock (_gate)
        {
            return _exports.Any(e => e.Signal == signal && e.Body.AsSpan().IndexOf(bytes) >= 0);
        }
    }

    protected override void Map(WebApplication app) =>
        app.MapPost("/v1/{signal}", async (string signal, HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            lock (_gate)
            {
                _exports.Add((signal, body.ToArray()));
            }

            return Results.Bytes([], "application/x-protobuf");
        });
}
