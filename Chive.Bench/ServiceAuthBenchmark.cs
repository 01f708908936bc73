using System.Diagnostics;
using System.Globalization;
using Chive.AtProto.Auth;
using Chive.AtProto.Identity;
using Chive.Testing;
using Chive.Testing.Doubles;

namespace Chive.Bench;

/// <summary>
/// What service auth costs per admin call: <c>--calls</c> (1,000) valid tokens per curve, each with its own <c>jti</c>,
/// from one did:web administrator (a host of our own serving the DID document), read and verified as the AdminApi does
/// (<see cref="ServiceAuthToken"/>: claims, then the signature with the key of the resolved, cached document). Counts the
/// DID document fetches and times the verification; the first call (cold cache) is shown apart. In process: no HTTP to
/// the AdminApi, no Redis — the replay check is one Redis round trip on top.
/// </summary>
internal static class ServiceAuthBenchmark
{
    private const string Audience = "did:web:backfill.chive.test";
    private const string Method = "pub.chive.admin.getBackfillStatus";

    public static async Task<int> RunAsync(string[] args)
    {
        var calls = Options.Int(args, "--calls", 1000);
        Console.WriteLine($"Service-auth benchmark: {calls:N0} valid tokens per curve from one did:web administrator, verified in process");
        Console.WriteLine();
        Console.WriteLine("| curve | DID document fetches | first call (cold) ms | per call (warm) µs | calls/s (one core) |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var curve in new[] { SigningKeyCurve.Secp256k1, SigningKeyCurve.P256 })
        {
            await using var host = await DidWebHost.StartNewAsync();
            using var signer = new ServiceAuthSigner(curve);
            host.Document = signer.DocumentFor(host);
            var resolver = TestClients.Resolver(new Uri("http://127.0.0.1:9/"), options => options.DidWebScheme = "http");
            var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            var tokens = Enumerable.Range(0, calls + 1).Select(_ => signer.Sign(host.Did, Audience, Method, now, now + 300)).ToList();
            var expect = new ServiceAuthExpectations(Audience, Method, TimeSpan.FromSeconds(30), TimeSpan.FromHours(1));

            var cold = Stopwatch.StartNew();
            await VerifyAsync(tokens[0], expect, resolver);
            cold.Stop();
            var warm = Stopwatch.StartNew();
            foreach (var token in tokens.Skip(1))
            {
                await VerifyAsync(token, expect, resolver);
            }

            warm.Stop();
            var perCall = warm.Elapsed.TotalMicroseconds / calls;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {signer.Algorithm} | {host.Fetches} | {cold.Elapsed.TotalMilliseconds:F1} | {perCall:F0} | {1_000_000 / perCall:N0} |"));
        }

        return 0;
    }

    private static async Task VerifyAsync(string token, ServiceAuthExpectations expect, DidResolver resolver)
    {
        var (read, refusal) = ServiceAuthToken.Read(token, expect, DateTimeOffset.UtcNow);
        if (read is null || await read.VerifySignatureAsync(resolver, CancellationToken.None) is { } bad)
        {
            throw new InvalidOperationException($"a valid token was refused: {refusal?.Message ?? "bad signature"}");
        }
    }
}
