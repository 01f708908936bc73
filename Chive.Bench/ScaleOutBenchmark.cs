using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Chive.ScanWorker.PdsScan;
using Chive.Testing.Doubles;
using Chive.Tests.Infrastructure;
using Chive.Tests.PdsScan;
using Xunit;

namespace Chive.Bench;

/// <summary>
/// Scale-out of the PDS scan when the PDSes, not our CPUs, set the pace: N PDSes of the test network, each behind a
/// proxy that adds a delay to every request (a PDS across the internet), scanned by 1 ScanWorker with 1 lane and by R
/// replicas with R lanes (<c>PdsScan:Concurrency</c> = replicas), each a whole system of its own. Also, on the first
/// system, once warm: how long a trigger takes until its operation reads <c>running</c>.
/// </summary>
internal static class ScaleOutBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var pdses = Options.Int(args, "--pdses", 30);
        var replicas = Options.Int(args, "--replicas", 3);
        var latencyMs = Options.Int(args, "--latency-ms", 50);
        var accounts = Options.Int(args, "--accounts-per-pds", 2);
        var records = Options.Int(args, "--records-per-account", 20);
        // One measured scan says little on a shared 2-core machine: each system scans this many times, and the table gives
        // the median (and each scan's time).
        var repeat = Math.Max(1, Options.Int(args, "--repeat", 3));

        var runs = new List<(int Replicas, int Lanes, TimeSpan Elapsed, List<TimeSpan> Each, long Records, long Requests, long PlcRequests, ScanCpu Cpu)>();
        var triggerMs = new List<double>();
        // One replica with one lane, then the same replica with as many lanes as the replicas to come (what lanes alone
        // give), then the replicas with their lanes.
        foreach (var (count, lanes) in new[] { (1, 1), (1, replicas), (replicas, replicas) })
        {
            Console.Error.WriteLine($"[bench] scale-out: a system with {count} ScanWorker replica(s), {lanes} lane(s)");
            // The PLC directory behind a counting proxy (not delayed): each replica resolves and caches DID documents on its own.
            HttpFaultProxy? plc = null;
            var fixture = new ChiveAppFixture
            {
                ProxyServers = false,
                Replicas = count > 1 ? new() { ["ScanWorker"] = count } : [],
                ScanWorkerSettings = async network =>
                {
                    plc = await HttpFaultProxy.StartNewAsync(network.PlcUrl);
                    return new Dictionary<string, string> { ["AtProto__Identity__PlcDirectoryUrl"] = plc.BaseAddress.ToString() };
                },
                ServiceSettings = new Dictionary<string, string>
                {
                    ["PdsScan__Concurrency"] = lanes.ToString(CultureInfo.InvariantCulture),
                    ["PdsScan__MaxPdsesPerScan"] = (pdses + 10).ToString(CultureInfo.InvariantCulture),
                    ["PdsScan__ReposPerChunk"] = "100",
                    ["PdsScan__RecordsPerBatch"] = ChiveAppFixture.ShippedRecordsPerBatch,
                    // One repo of a unit at a time: the lanes are the scan's only concurrency, so "lanes = replicas" holds
                    // (the shipped two repos in flight make one lane about a third faster here, and leave the replicas
                    // less to add; --set PdsScan__ReposInFlight=2 measures that).
                    ["PdsScan__ReposInFlight"] = "1",
                    // Due again a second after a scan (the shortest allowed), so the measured scan finds every PDS due.
                    ["PdsRegistry__ActiveRescan"] = "00:00:01",
                    ["PdsRegistry__NoRecordsRescan"] = "00:00:01",
                },
            };
            foreach (var (name, value) in Options.Settings(args))
            {
                fixture.ServiceSettings![name] = value;
            }

            await fixture.InitializeAsync();
            var directory = plc ?? throw new InvalidOperationException("the fixture did not ask for the ScanWorker's settings");
            var proxies = new List<HttpFaultProxy>();
            try
            {
                Console.Error.WriteLine($"[bench] seeding {pdses} PDSes × {accounts} accounts × {records} Chive records");
                var registry = fixture.Registry();
                for (var p = 0; p < pdses; p++)
                {
                    var pds = await fixture.Network.AddPdsAsync();
                    var proxy = await HttpFaultProxy.StartNewAsync(pds);
                    proxies.Add(proxy);
                    var index = fixture.Network.PdsUrls.Count - 1;
                    for (var a = 0; a < accounts; a++)
                    {
                        var seed = Enumerable.Range(0, records)
                            .Select(i => new SeedRecord("pub.chive.eprint.submission", ScanWorld.LexiconSubmission($"Scale-out eprint {p}-{a}-{i}", null)))
                            .ToList();
                        await fixture.Network.SeedAsync(index, proxy.BaseAddress, new SeedAccount($"s{p}x{a}{Guid.NewGuid():N}"[..12] + ".test", seed));
                    }

                    await registry.RegisterAsync(proxy.BaseAddress, DiscoverySource.Admin);
                }

                using var admin = fixture.CreateAdminClient();
                var expected = (long)pdses * accounts * records;
                Console.Error.WriteLine("[bench] warm-up scan (no delay)");
                await ScanAllAsync(admin, expected);
                var each = new List<TimeSpan>();
                var cpus = new List<ScanCpu>();
                var (done, requests, plcRequests) = (0L, 0L, 0L);
                for (var r = 0; r < repeat; r++)
                {
                    foreach (var proxy in proxies)
                    {
                        proxy.Always = new HttpFault.Slow(TimeSpan.FromMilliseconds(latencyMs));
                        proxy.ResetCount();
                    }

                    directory.ResetCount();
                    // Every PDS due again (a second after its last scan).
                    await Task.Delay(TimeSpan.FromSeconds(1.5));
                    Console.Error.WriteLine($"[bench] measured scan {r + 1} of {repeat}: {latencyMs} ms added to every PDS request");
                    var started = DateTimeOffset.UtcNow;
                    var cpu = CpuUse.Snapshot();
                    var watch = Stopwatch.StartNew();
                    (done, var endedAt) = await ScanAllAsync(admin, expected);
                    cpus.Add(new ScanCpu(CpuUse.Since(cpu), watch.Elapsed));
                    each.Add(endedAt - started);
                    requests = proxies.Sum(p => (long)p.Requests);
                    plcRequests += directory.Requests;
                }

                // The CPU of the scan whose time is the median (the first such, should two be equal).
                runs.Add((count, lanes, Median(each), each, done, requests, plcRequests, cpus[each.IndexOf(Median(each))]));

                if (runs.Count == 1)
                {
                    foreach (var proxy in proxies)
                    {
                        proxy.Always = null;
                    }

                    await Task.Delay(TimeSpan.FromSeconds(1.5));
                    triggerMs.AddRange(await TriggerToRunningAsync(admin, proxies));
                }
            }
            finally
            {
                foreach (var proxy in proxies)
                {
                    await proxy.DisposeAsync();
                }

                await fixture.DisposeAsync();
                await directory.DisposeAsync();
            }
        }

        var one = runs[0].Elapsed;
        Console.WriteLine($"Scale-out benchmark, one run: {pdses} PDSes × {accounts} repos × {records} Chive records, {latencyMs} ms added to every " +
            $"PDS request by a proxy, verified sync, the rescan of an index already filled; {Environment.ProcessorCount} cores. Each system scans " +
            $"{repeat} time(s), each timed from the trigger to the completedAt its saga stamps: seconds are medians, ratios medians against medians.");
        Console.WriteLine();
        Console.WriteLine("| ScanWorker replicas | lanes | PDS requests (a scan) | PLC requests (all measured scans) | seconds | each scan (s) | records/s | × one replica, one lane |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---|---:|---:|");
        foreach (var run in runs)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {run.Replicas} | {run.Lanes} | {run.Requests:N0} | {run.PlcRequests:N0} | {run.Elapsed.TotalSeconds:F1} | {string.Join(", ", run.Each.Select(e => e.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)))} | {run.Records / run.Elapsed.TotalSeconds:N0} | {one / run.Elapsed:F2} |"));
        }

        Console.WriteLine();
        Console.WriteLine("CPU seconds by program during each system's median scan (all processes on the machine; wall: from the trigger until a poll saw " +
            "the end, up to 100 ms after its completedAt; capacity = cores × wall):");
        Console.WriteLine();
        Console.WriteLine("| ScanWorker replicas | lanes | wall s | capacity s | CPU s, all | busiest programs (CPU s) |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---|");
        foreach (var run in runs)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {run.Replicas} | {run.Lanes} | {run.Cpu.Window.TotalSeconds:F1} | {run.Cpu.Window.TotalSeconds * Environment.ProcessorCount:F1} | {run.Cpu.Used.Sum(p => p.Seconds):F2} | {CpuUse.Describe(run.Cpu.Used, 8)} |"));
        }

        triggerMs.Sort();
        var median = triggerMs[triggerMs.Count / 2];
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Trigger → `running` visible (warm, one replica, {triggerMs.Count} PDS scans of one PDS): median {median:F0} ms, best {triggerMs[0]:F0} ms, worst {triggerMs[^1]:F0} ms."));
        BenchSummary.Add($"Latency-bound PDS scan, {replicas} ScanWorker replicas and lanes ÷ 1 and 1 ({pdses} PDSes, +{latencyMs} ms a request; medians of {repeat} scans)",
            $"{one / runs[^1].Elapsed:F2}× (one replica, {replicas} lanes: {one / runs[1].Elapsed:F2}×)", "≥ 2.5×");
        BenchSummary.Add("Trigger → `running` visible, warm (median)", $"{median:F0} ms", "≤ 100 ms");
        return 0;
    }

    /// <summary>CPU seconds by program during one measured scan, and the window they were counted over.</summary>
    private sealed record ScanCpu(IReadOnlyList<(string Program, double Seconds)> Used, TimeSpan Window);

    private static TimeSpan Median(List<TimeSpan> times) => times.Order().ElementAt(times.Count / 2);

    /// <summary>A scan of every due PDS: its records and the completedAt its saga stamped (the end, not when a poll saw it).</summary>
    private static async Task<(long Records, DateTimeOffset EndedAt)> ScanAllAsync(HttpClient admin, long expected)
    {
        // force: every repo read whole — the measured scan follows an unmeasured one, and would otherwise confirm every
        // repo without reading it (nothing changed): this benchmark is about reading at a distance.
        var started = await admin.PostAsync("triggerPDSScan", new JsonObject { ["force"] = true });
        var done = await admin.WaitForEndAsync(started["operationId"]!.GetValue<string>(), TimeSpan.FromMinutes(30));
        Assert.Equal("completed", done.Status());
        Assert.True(done.Records() >= expected, $"{done.Records()} records scanned, {expected} expected");
        return (done.Records(), done["completedAt"]!.GetValue<DateTimeOffset>());
    }

    /// <summary>
    /// Ten PDS scans of one PDS each, after two unmeasured: from sending the trigger to the first read of the operation
    /// that says <c>running</c> (or already ended), reading as fast as the AdminApi answers.
    /// </summary>
    private static async Task<List<double>> TriggerToRunningAsync(HttpClient admin, IReadOnlyList<HttpFaultProxy> proxies)
    {
        var times = new List<double>();
        for (var i = 0; i < 12; i++)
        {
            var pds = proxies[i % proxies.Count].BaseAddress.GetLeftPart(UriPartial.Authority);
            var watch = Stopwatch.StartNew();
            var started = await admin.PostAsync("triggerPDSScan", new JsonObject { ["pdsUrl"] = pds });
            var id = started["operationId"]!.GetValue<string>();
            while ((await admin.GetOperationAsync(id)).Status() is not ("running" or "completed" or "failed" or "cancelled"))
            {
            }

            watch.Stop();
            if (i >= 2)
            {
                times.Add(watch.Elapsed.TotalMilliseconds);
            }

            await admin.WaitForEndAsync(id);
        }

        return times;
    }
}
