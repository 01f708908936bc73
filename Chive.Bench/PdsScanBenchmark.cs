using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Chive.Tests.Infrastructure;
using Chive.Tests.PdsScan;
using Xunit;

namespace Chive.Bench;

/// <summary>
/// PDS scan throughput on the dev PDS (the reference implementation from @atproto/dev-env): seeds accounts with
/// submissions and user tags, then times, on the same repos, (1) merely downloading every record with listRecords in
/// one sequential loop and (2) a complete PDS scan through the whole system (trigger → saga → ScanWorker →
/// RabbitMQ → IndexWorker → PostgreSQL + Elasticsearch double → completed), first into an empty index, then again
/// with nothing changed.
/// </summary>
internal static class PdsScanBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var accounts = Options.Int(args, "--accounts", 10);
        var perAccount = Options.Int(args, "--records-per-account", 500);
        var total = accounts * perAccount;
        Console.Error.WriteLine($"[bench] starting the system and seeding {accounts} accounts × {perAccount} records");

        // --mode listing (default) or verified: how the ScanWorker reads each repo (Sync:Mode).
        var modeIndex = Array.IndexOf(args, "--mode");
        var mode = modeIndex >= 0 && modeIndex + 1 < args.Length ? args[modeIndex + 1] : "listing";
        var fixture = new ChiveAppFixture
        {
            ScanWorkerSettings = _ => Task.FromResult(new Dictionary<string, string> { ["Sync__Mode"] = mode }),
        };
        await fixture.InitializeAsync();
        try
        {
            var pds = await fixture.Network.AddPdsAsync();
            var index = fixture.Network.PdsUrls.Count - 1;
            var seeded = new List<SeededAccount>();
            for (var a = 0; a < accounts; a++)
            {
                var records = Enumerable.Range(0, perAccount).Select(i => i % 10 == 0
                    ? new SeedRecord("pub.chive.eprint.submission", ScanWorld.LexiconSubmission($"Bench eprint {a}-{i}", null))
                    : new SeedRecord("pub.chive.eprint.userTag", new JsonObject { ["eprintUri"] = "at://x", ["tag"] = $"t{i}", ["createdAt"] = "2026-03-01T00:00:00Z" }))
                    .ToList();
                seeded.AddRange(await fixture.Network.SeedAsync(index, new SeedAccount($"bench{a}.test", records)));
            }

            Console.Error.WriteLine("[bench] warming up the plain loop");
            await DownloadAsync(pds, seeded);
            var loop = await DownloadAsync(pds, seeded);
            Assert.Equal(total, loop.Records);

            using var admin = fixture.CreateAdminClient();
            var first = await ScanAsync(admin, pds);
            Assert.Equal(total, first.Records);
            var second = await ScanAsync(admin, pds);
            Assert.Equal(total, second.Records);

            Console.WriteLine($"PDS scan benchmark, Sync:Mode = {mode}: {accounts} repos, {total:N0} records ({total / 10:N0} submissions), dev PDS on loopback, " +
                $"{Environment.ProcessorCount} cores; ScanWorker politeness as in the tests (200 requests/s per host)");
            Console.WriteLine();
            Console.WriteLine("| run | requests | seconds | records/s | × plain loop |");
            Console.WriteLine("|---|---:|---:|---:|---:|");
            Row("plain listRecords loop (download only)", loop.Requests.ToString(CultureInfo.InvariantCulture), loop.Elapsed, total, loop.Elapsed);
            Row("PDS scan, empty index (download + store + project + search)", "—", first.Elapsed, total, loop.Elapsed);
            Row("PDS scan again, nothing changed", "—", second.Elapsed, total, loop.Elapsed);
            return 0;
        }
        finally
        {
            await fixture.DisposeAsync();
        }
    }

    private static async Task<(long Records, int Requests, TimeSpan Elapsed)> DownloadAsync(Uri pds, IReadOnlyList<SeededAccount> accounts)
    {
        using var client = new HttpClient { BaseAddress = pds };
        var watch = Stopwatch.StartNew();
        long records = 0;
        var requests = 0;
        foreach (var account in accounts)
        {
            foreach (var collection in new[] { "pub.chive.eprint.submission", "pub.chive.eprint.userTag" })
            {
                string? cursor = null;
                do
                {
                    var url = $"/xrpc/com.atproto.repo.listRecords?repo={account.Did}&collection={collection}&limit=100" +
                        (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}");
                    var page = JsonNode.Parse(await client.GetStringAsync(url))!;
                    requests++;
                    var count = page["records"]!.AsArray().Count;
                    records += count;
                    cursor = count == 0 ? null : page["cursor"]?.GetValue<string>();
                }
                while (cursor is not null);
            }
        }

        return (records, requests, watch.Elapsed);
    }

    private static async Task<(long Records, TimeSpan Elapsed)> ScanAsync(HttpClient admin, Uri pds)
    {
        var watch = Stopwatch.StartNew();
        var started = await admin.PostAsync("triggerPDSScan", new JsonObject { ["pdsUrl"] = pds.GetLeftPart(UriPartial.Authority) });
        var done = await admin.WaitForEndAsync(started["operationId"]!.GetValue<string>(), TimeSpan.FromMinutes(30));
        watch.Stop();
        Assert.Equal("completed", done.Status());
        return (done.Records(), watch.Elapsed);
    }

    private static void Row(string name, string requests, TimeSpan elapsed, long records, TimeSpan baseline) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {requests} | {elapsed.TotalSeconds:F1} | {records / elapsed.TotalSeconds:N0} | {elapsed / baseline:F2} |"));
}
