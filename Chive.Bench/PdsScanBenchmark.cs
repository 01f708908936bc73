using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Chive.AtProto.Identifiers;
using Chive.AtProto.Repo;
using Chive.Testing;
using Chive.Testing.Doubles;
using Chive.Tests.Infrastructure;
using Chive.Tests.PdsScan;
using Xunit;

namespace Chive.Bench;

/// <summary>
/// PDS scan cost on the dev PDS (the reference implementation from @atproto/dev-env), in both sync modes, in one run:
/// for each mode a whole system is started (trigger → saga → ScanWorker → RabbitMQ → IndexWorker → PostgreSQL +
/// Elasticsearch double → completed) and two workloads are seeded on a PDS of their own, read through a proxy that
/// counts requests and bytes: <em>Chive-heavy</em> (10 repos × 500 Chive records: 500 submissions, 4,500 user tags) and
/// <em>Bluesky-heavy</em> (10 repos × 2,000 posts and 20 Chive records each). Per workload: the plain download loops
/// (every Chive record with <c>listRecords</c>; every repo with <c>getRepo</c>, then also read and verified with
/// <see cref="RepoCar"/>), then a complete PDS scan into an empty index and one with nothing changed.
/// </summary>
internal static class PdsScanBenchmark
{
    private sealed record Workload(string Name, int Accounts, int ChivePerAccount, int PostsPerAccount);

    private sealed record Run(string Name, long Requests, long Bytes, TimeSpan Elapsed, long Records)
    {
        public IReadOnlyList<ConsumeBreakdown.Stage>? Stages { get; init; }

        /// <summary>CPU seconds per program on the machine during the run.</summary>
        public IReadOnlyList<(string Program, double Seconds)> Cpu { get; init; } = [];

        /// <summary>
        /// The wall time <see cref="Cpu"/> was counted over: to when the run was seen to end (a scan's poll, up to 100 ms
        /// after the <c>completedAt</c> that ends <see cref="Elapsed"/>), so that CPU and capacity cover the same time.
        /// </summary>
        public TimeSpan CpuWindow { get; init; }
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var accounts = Options.Int(args, "--accounts", 10);
        var perAccount = Options.Int(args, "--records-per-account", 500);
        var posts = Options.Int(args, "--posts-per-account", 2000);
        // Each workload seeded afresh and measured this many times (the loops and the scans side by side each time); the
        // tables give the median of the ratios: one run on these machines varied by a third.
        var repeat = Math.Max(1, Options.Int(args, "--repeat", 3));
        // --breakdown: each scan's consume times per service and message, from the services' MassTransit debug logs.
        var breakdown = args.Contains("--breakdown");
        var modeIndex = Array.IndexOf(args, "--mode");
        string[] modes = modeIndex >= 0 && modeIndex + 1 < args.Length && args[modeIndex + 1] != "both" ? [args[modeIndex + 1]] : ["verified", "listing"];
        if (modes.Any(m => m is not ("verified" or "listing")))
        {
            Console.Error.WriteLine("--mode is verified, listing or both");
            return 2;
        }

        Workload[] workloads =
        [
            new("Chive-heavy", accounts, perAccount, 0),
            new("Bluesky-heavy", accounts, 20, posts),
        ];

        // Per workload, per repetition: the runs of every mode, in order (the loops only with the first mode).
        var results = workloads.ToDictionary(w => w.Name, _ => Enumerable.Range(0, repeat).Select(_ => new List<Run>()).ToList());
        // The Elasticsearch double in a process of its own, as a cluster would be: its work is not the benchmark's.
        using var search = ChiveAppFixture.RealElasticsearch is null ? await ReindexBenchmark.StartSearchDoubleAsync() : null;
        foreach (var mode in modes)
        {
            Console.Error.WriteLine($"[bench] starting the system in Sync:Mode = {mode}");
            // The shipped unit and batch sizes (100 repos a listRepos page and chunk, 1,000 records a batch), not the tests' 2
            // and 200, unless --set says otherwise.
            var settings = new Dictionary<string, string> { ["PdsScan__ReposPerChunk"] = "100", ["PdsScan__RecordsPerBatch"] = ChiveAppFixture.ShippedRecordsPerBatch };
            foreach (var (name, value) in Options.Settings(args))
            {
                settings[name] = value;
            }

            if (breakdown)
            {
                settings["Logging__LogLevel__MassTransit"] = "Debug";
                settings["Logging__LogLevel__Chive.ScanWorker.PdsScan.RepoReader"] = "Debug";
                settings["Logging__LogLevel__Chive.IndexWorker.Indexing.IndexBatchProcessor"] = "Debug";
            }

            var fixture = new ChiveAppFixture { SyncMode = mode == "verified" ? "Verified" : "Listing", ServiceSettings = settings, ProxyServers = false };
            await fixture.InitializeAsync();
            try
            {
                // Warm-up, unmeasured: a small workload scanned twice, so the measured scans find the services' code
                // compiled (the tiered JIT took four tenths of the machine's CPU during the first scan of a cold system).
                Console.Error.WriteLine("[bench] warm-up scans");
                await MeasureAsync(fixture, new Workload("warm-up", 3, 200, 0), loops: false, mode, breakdown: false);
                foreach (var workload in workloads)
                {
                    for (var r = 0; r < repeat; r++)
                    {
                        results[workload.Name][r].AddRange(await MeasureAsync(fixture, workload, loops: mode == modes[0], mode, breakdown));
                    }
                }
            }
            finally
            {
                await fixture.DisposeAsync();
            }
        }

        Console.WriteLine($"PDS scan benchmark, one run: Sync:Mode {string.Join(" and ", modes)}; dev PDS on loopback behind a counting proxy, " +
            $"{Environment.ProcessorCount} cores; ScanWorker politeness as in the tests (200 requests/s per host). Records/s counts Chive records. " +
            $"Each workload seeded and measured {repeat} time(s): seconds and ratios are medians (each ratio against the loop measured beside it).");
        foreach (var workload in workloads)
        {
            var repetitions = results[workload.Name];
            Console.WriteLine();
            Console.WriteLine($"**{workload.Name}**: {workload.Accounts} repos × ({workload.ChivePerAccount:N0} Chive records + {workload.PostsPerAccount:N0} posts) = " +
                $"{workload.Accounts * workload.ChivePerAccount:N0} Chive records of {workload.Accounts * (workload.ChivePerAccount + workload.PostsPerAccount):N0}");
            Console.WriteLine();
            Console.WriteLine("| run | requests | MiB | seconds | records/s | × listRecords loop | × loop, each time |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---|");
            var ratios = new List<double>[repetitions[0].Count];
            for (var i = 0; i < ratios.Length; i++)
            {
                var run = repetitions[0][i];
                ratios[i] = repetitions.Select(rep => rep[i].Elapsed / rep[0].Elapsed).ToList();
                var seconds = Median(repetitions.Select(rep => rep[i].Elapsed.TotalSeconds));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {run.Name} | {run.Requests:N0} | {run.Bytes / 1024.0 / 1024:F1} | {seconds:F2} | {run.Records / seconds:N0} | {Median(ratios[i]):F2} | {string.Join(", ", ratios[i].Select(x => x.ToString("F2", CultureInfo.InvariantCulture)))} |"));
                if (run.Name.StartsWith("PDS scan", StringComparison.Ordinal))
                {
                    var spread = ratios[i].Count > 1 ? string.Create(CultureInfo.InvariantCulture, $" ({ratios[i].Min():F2}–{ratios[i].Max():F2})") : "";
                    BenchSummary.Add($"{workload.Name}: {run.Name["PDS scan, ".Length..]}, ÷ plain listRecords loop ({workload.Accounts * workload.ChivePerAccount:N0} records)",
                        $"{Median(ratios[i]):F2}×{spread}", run.Name.EndsWith(", force", StringComparison.Ordinal) ? "— (every repo read again)" : "≤ 2×");
                    BenchSummary.Add($"{workload.Name}: {run.Name["PDS scan, ".Length..]}, PDS requests per repo", $"{run.Requests / (double)workload.Accounts:F1}", "—");
                }
            }

            // The CPU and breakdown tables of one repetition: the one whose first scan's ratio is the median.
            var firstScan = repetitions[0].FindIndex(r => r.Name.StartsWith("PDS scan", StringComparison.Ordinal));
            var middle = repetitions.OrderBy(rep => rep[firstScan].Elapsed / rep[0].Elapsed).ElementAt(repetitions.Count / 2);
            foreach (var run in middle.Where(r => r.Stages is not null))
            {
                ConsumeBreakdown.Print($"{workload.Name}, {run.Name}", run.Stages!, run.Elapsed);
            }

            PrintCpu(workload.Name, middle, repetitions.Count);
        }

        return 0;
    }

    private static async Task<List<Run>> MeasureAsync(ChiveAppFixture fixture, Workload workload, bool loops, string mode, bool breakdown)
    {
        var pds = await fixture.Network.AddPdsAsync();
        var index = fixture.Network.PdsUrls.Count - 1;
        var proxy = await HttpFaultProxy.StartNewAsync(pds);
        Console.Error.WriteLine($"[bench] {mode}: seeding {workload.Name}");
        var seeded = new List<SeededAccount>();
        for (var a = 0; a < workload.Accounts; a++)
        {
            var records = Enumerable.Range(0, workload.ChivePerAccount).Select(i => i % 10 == 0
                    ? new SeedRecord("pub.chive.eprint.submission", ScanWorld.LexiconSubmission($"Bench eprint {a}-{i}", null))
                    : new SeedRecord("pub.chive.eprint.userTag", new JsonObject { ["eprintUri"] = "at://x", ["tag"] = $"t{i}", ["createdAt"] = "2026-03-01T00:00:00Z" }))
                .Concat(Enumerable.Range(0, workload.PostsPerAccount).Select(i => new SeedRecord("app.bsky.feed.post", new JsonObject
                {
                    ["$type"] = "app.bsky.feed.post",
                    ["text"] = $"Post {i} of bench account {a}: about as long as a typical post on the network, which is to say not very.",
                    ["langs"] = new JsonArray("en"),
                    ["createdAt"] = "2026-03-01T00:00:00Z",
                })))
                .ToList();
            seeded.AddRange(await fixture.Network.SeedAsync(index, proxy.BaseAddress, new SeedAccount($"b{workload.Name[0]}{a}{Guid.NewGuid():N}"[..12] + ".test", records)));
        }

        var chive = (long)workload.Accounts * workload.ChivePerAccount;
        var runs = new List<Run>();
        if (loops)
        {
            Console.Error.WriteLine("[bench] warming up the plain loops");
            await ListingLoopAsync(proxy, seeded);
            await CarLoopAsync(fixture, proxy, seeded, verify: true);
            runs.Add(await MeasuredAsync(proxy, "plain listRecords loop (download only)", chive, () => ListingLoopAsync(proxy, seeded)));
            runs.Add(await MeasuredAsync(proxy, "plain getRepo loop (download only)", chive, () => CarLoopAsync(fixture, proxy, seeded, verify: false)));
            runs.Add(await MeasuredAsync(proxy, "plain getRepo loop + read and verify (RepoCar)", chive, () => CarLoopAsync(fixture, proxy, seeded, verify: true)));
        }

        using var admin = fixture.CreateAdminClient();
        // In verified mode a third scan with force: nothing changed, every repo read whole all the same (what a scan did
        // before repos listed with their verified commit were confirmed unread).
        var scans = new List<(string Name, bool Force)> { ($"PDS scan, {mode}, empty index", false), ($"PDS scan, {mode}, nothing changed", false) };
        if (mode == "verified")
        {
            scans.Add(($"PDS scan, {mode}, nothing changed, force", true));
        }

        foreach (var (name, force) in scans)
        {
            var from = DateTime.UtcNow;
            var run = await MeasuredAsync(proxy, name, chive, () => ScanAsync(admin, proxy, force));
            if (breakdown)
            {
                await Task.Delay(500); // the services' last lines reach the log file
                run = run with { Stages = ConsumeBreakdown.Read(fixture.LogFile!.FilePath, from, from + run.Elapsed) };
            }

            runs.Add(run);
        }
        await proxy.DisposeAsync();
        return runs;
    }

    private static Task<Run> MeasuredAsync(HttpFaultProxy proxy, string name, long expected, Func<Task<long>> run) =>
        MeasuredAsync(proxy, name, expected, async () => (await run(), (DateTimeOffset?)null));

    /// <summary>
    /// A run timed by the stopwatch — or, when it reports when it ended (a scan: the <c>completedAt</c> the saga stamps,
    /// on this machine's clock), from its start to then, so the polling that sees the end neither delays nor pays for it.
    /// </summary>
    private static async Task<Run> MeasuredAsync(
        HttpFaultProxy proxy, string name, long expected, Func<Task<(long Records, DateTimeOffset? EndedAt)>> run)
    {
        proxy.ResetCount();
        var cpu = CpuUse.Snapshot();
        var began = DateTimeOffset.UtcNow;
        var watch = Stopwatch.StartNew();
        var (records, endedAt) = await run();
        watch.Stop();
        Assert.Equal(expected, records);
        var elapsed = endedAt is { } end ? end - began : watch.Elapsed;
        return new Run(name, proxy.Requests, proxy.BytesForwarded, elapsed, records) { Cpu = CpuUse.Since(cpu), CpuWindow = watch.Elapsed };
    }

    /// <summary>Each run's CPU seconds by program (all, and the six busiest), against what the machine had: cores × wall.</summary>
    private static void PrintCpu(string workload, IReadOnlyList<Run> runs, int repetitions)
    {
        Console.WriteLine();
        var which = repetitions > 1 ? " of the repetition with the median first-scan ratio" : "";
        Console.WriteLine($"*{workload}* — CPU seconds by program during each run{which} (all processes on the machine; wall: until the run was seen to end, a scan's poll up to 100 ms after its completedAt; capacity = {Environment.ProcessorCount} cores × wall):");
        Console.WriteLine();
        Console.WriteLine("| run | wall s | capacity s | CPU s, all | busiest programs (CPU s) |");
        Console.WriteLine("|---|---:|---:|---:|---|");
        foreach (var run in runs)
        {
            var top = CpuUse.Describe(run.Cpu);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {run.Name} | {run.CpuWindow.TotalSeconds:F2} | {run.CpuWindow.TotalSeconds * Environment.ProcessorCount:F2} | {run.Cpu.Sum(p => p.Seconds):F2} | {top} |"));
        }
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static async Task<long> ListingLoopAsync(HttpFaultProxy proxy, IReadOnlyList<SeededAccount> accounts)
    {
        using var client = new HttpClient { BaseAddress = proxy.BaseAddress };
        long records = 0;
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
                    var count = page["records"]!.AsArray().Count;
                    records += count;
                    cursor = count == 0 ? null : page["cursor"]?.GetValue<string>();
                }
                while (cursor is not null);
            }
        }

        return records;
    }

    /// <summary>Every repo as a CAR; with <paramref name="verify"/>, read and verified as the ScanWorker does (Chive records counted).</summary>
    private static async Task<long> CarLoopAsync(ChiveAppFixture fixture, HttpFaultProxy proxy, IReadOnlyList<SeededAccount> accounts, bool verify)
    {
        var xrpc = TestClients.Xrpc();
        var resolver = TestClients.Resolver(fixture.Network.PlcUrl);
        long records = 0;
        foreach (var account in accounts)
        {
            var did = Did.Parse(account.Did);
            await using var car = await xrpc.GetRepoAsync(proxy.BaseAddress, did);
            if (verify)
            {
                records += (await RepoCar.ReadAsync(car, did, resolver, "pub.chive.", CancellationToken.None)).Records.Count;
            }
            else
            {
                await car.CopyToAsync(Stream.Null);
                records += account.Records.Count(r => r.Uri.Contains("/pub.chive.", StringComparison.Ordinal));
            }
        }

        return records;
    }

    private static async Task<(long Records, DateTimeOffset? EndedAt)> ScanAsync(HttpClient admin, HttpFaultProxy proxy, bool force = false)
    {
        var started = await admin.PostAsync("triggerPDSScan", new JsonObject { ["pdsUrl"] = proxy.BaseAddress.GetLeftPart(UriPartial.Authority), ["force"] = force });
        // Timed to the completedAt the saga records, so polled at the tests' pace (every 100 ms): a faster poll would cost
        // the AdminApi CPU the scan shares, and the end is not when a poll sees it.
        var done = await admin.WaitForEndAsync(started["operationId"]!.GetValue<string>(), TimeSpan.FromMinutes(30), TimeSpan.FromMilliseconds(100));
        Assert.Equal("completed", done.Status());
        return (done.Records(), done["completedAt"]!.GetValue<DateTimeOffset>());
    }
}
