using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Chive.ServiceDefaults;
using Chive.Testing.Doubles;
using Chive.Tests.Infrastructure;
using Chive.Tests.PdsScan;
using Npgsql;
using Xunit;

namespace Chive.Bench;

/// <summary>
/// Freshness scan against Chive's per-record pattern on the same data: one dev PDS (behind a request-counting proxy,
/// which the accounts' DID documents name) with <c>--repos</c> repos of <c>--records-per-repo</c> records (one
/// submission, the rest user tags), a PDS scan, then <c>--changed-percent</c> of the records changed on the PDS (a new
/// title, one record in each of as many repos) and every record made stale. Then, on the same stale set:
/// Chive's pattern — per record, the DID resolved (cached per DID, as Chive's 300 s cache would) and one
/// <c>getRecord</c>, its CID compared with ours — sequentially (the admin trigger's loop) and five at a time (the
/// scheduled worker's concurrency, without its limit of 10 requests a minute per PDS); and ours through the running
/// system (trigger → saga → ScanWorker → IndexWorker → completed), with a cold DID cache (the ScanWorker restarted, the shared DID documents emptied).
/// The PLC directory sits behind a proxy too, so DID lookups are counted, not estimated.
/// </summary>
internal static class FreshnessBenchmark
{
    private const string Submission = "pub.chive.eprint.submission";

    public static async Task<int> RunAsync(string[] args)
    {
        var repos = Options.Int(args, "--repos", 1000);
        var perRepo = Math.Max(2, Options.Int(args, "--records-per-repo", 10));
        var changedPercent = Options.Int(args, "--changed-percent", 1);
        // --latency-ms: added to every request to the PDS and the PLC directory in the measured runs (both across the
        // internet, as in scale-out);
        // --ours-only: Chive's pattern not run (for comparing our own runs; --set Name=Value sets the ScanWorker's settings).
        var latency = TimeSpan.FromMilliseconds(Options.Int(args, "--latency-ms", 0));
        var oursOnly = args.Contains("--ours-only");
        var total = repos * perRepo;
        var changed = Math.Clamp(total * changedPercent / 100, 1, repos);
        Console.Error.WriteLine($"[bench] starting the system; {repos} repos × {perRepo} records, {changed} records to change");

        HttpFaultProxy? plc = null;
        var fixture = new ChiveAppFixture
        {
            ScanWorkerSettings = async network =>
            {
                plc = await HttpFaultProxy.StartNewAsync(network.PlcUrl);
                var settings = new Dictionary<string, string>
                {
                    ["AtProto__Identity__PlcDirectoryUrl"] = plc.BaseAddress.ToString(),
                    ["PdsScan__ReposPerChunk"] = "100",
                    ["PdsScan__RecordsPerBatch"] = ChiveAppFixture.ShippedRecordsPerBatch,
                    ["PdsScan__MaxPagesPerPds"] = "1000000",
                    ["PdsScan__MaxReposPerPds"] = "1000000",
                    ["PdsScan__MaxRecordsPerPds"] = "10000000",
                    ["Freshness__ReposPerChunk"] = "50",
                };
                foreach (var (name, value) in Options.Settings(args))
                {
                    settings[name] = value;
                }

                return settings;
            },
        };
        await fixture.InitializeAsync();
        var directory = plc ?? throw new InvalidOperationException("the fixture did not ask for the ScanWorker's settings");
        try
        {
            var network = fixture.Network;
            var pds = await network.AddPdsAsync();
            var index = network.PdsUrls.Count - 1;
            await using var proxy = await HttpFaultProxy.StartNewAsync(pds);
            var accounts = new List<SeededAccount>();
            for (var start = 0; start < repos; start += 50)
            {
                var batch = Enumerable.Range(start, Math.Min(50, repos - start)).Select(a => new SeedAccount($"fresh{a}.test",
                    Enumerable.Range(0, perRepo).Select(i => i == 0
                        ? new SeedRecord(Submission, ScanWorld.LexiconSubmission($"Bench eprint {a}", null))
                        : new SeedRecord("pub.chive.eprint.userTag", new JsonObject { ["eprintUri"] = "at://x", ["tag"] = $"t{i}", ["createdAt"] = "2026-03-01T00:00:00Z" }))
                    .ToList())).ToArray();
                accounts.AddRange(await network.SeedAsync(index, proxy.BaseAddress, batch));
                Console.Error.WriteLine($"[bench] seeded {accounts.Count} of {repos} repos");
            }

            using var admin = fixture.CreateAdminClient();
            var scan = await admin.PostAsync("triggerPDSScan", new JsonObject { ["pdsUrl"] = ScanWorld.Origin(proxy) });
            var scanned = await admin.WaitForEndAsync(scan["operationId"]!.GetValue<string>(), TimeSpan.FromMinutes(30));
            Assert.Equal(("completed", (long)total), (scanned.Status(), scanned.Records()));

            // The changes, by the accounts' own clients: a new title for the submission of every (repos / changed)-th repo.
            var step = repos / changed;
            for (var k = 0; k < changed; k++)
            {
                var account = accounts[k * step];
                var rkey = account.Records[0].Uri.Split('/')[^1];
                await ScanWorld.CallAsUserAsync(pds, account, "com.atproto.repo.putRecord", new JsonObject
                {
                    ["repo"] = account.Did,
                    ["collection"] = Submission,
                    ["rkey"] = rkey,
                    ["record"] = ScanWorld.LexiconSubmission($"Revised {k}", null),
                    ["validate"] = false,
                });
            }

            await using var db = NpgsqlDataSource.Create(fixture.DatabaseConnectionString);
            await using (var stale = db.CreateCommand(
                "UPDATE indexed_records SET indexed_at = now() - interval '30 days', last_synced_at = now() - interval '8 days' WHERE deleted_at IS NULL"))
            {
                await stale.ExecuteNonQueryAsync();
            }

            var held = await HeldAsync(db);
            Assert.Equal(total, held.Count);

            proxy.Always = directory.Always = latency > TimeSpan.Zero ? new HttpFault.Slow(latency) : null;
            Run? sequential = null, parallel = null;
            if (!oursOnly)
            {
                Console.Error.WriteLine("[bench] Chive's pattern, sequential");
                sequential = await ChivePatternAsync(held, directory, proxy, parallelism: 1);
                Console.Error.WriteLine("[bench] Chive's pattern, five at a time");
                parallel = await ChivePatternAsync(held, directory, proxy, parallelism: 5);
                Assert.Equal((changed, changed), (sequential.Changed, parallel.Changed));
            }

            Console.Error.WriteLine("[bench] ours (the ScanWorker restarted and the shared DID documents emptied: no DID cached)");
            await ChiveAppFixture.KillAsync("Chive.ScanWorker");
            await fixture.StartServiceAsync(ResourceNames.ScanWorker);
            await using (var forget = db.CreateCommand("TRUNCATE did_documents"))
            {
                await forget.ExecuteNonQueryAsync();
            }
            proxy.ResetCount();
            directory.ResetCount();
            var cpu = CpuUse.Snapshot();
            var watch = Stopwatch.StartNew();
            var started = await admin.PostAsync("triggerFreshnessScan", new JsonObject { ["tier"] = "all" });
            var done = await admin.WaitForEndAsync(started["operationId"]!.GetValue<string>(), TimeSpan.FromMinutes(30));
            watch.Stop();
            var used = CpuUse.Since(cpu);
            Assert.Equal("completed", done.Status());
            Assert.Equal(changed.ToString(CultureInfo.InvariantCulture), done.Meta("recordsUpdated"));
            Assert.Equal((repos - changed).ToString(CultureInfo.InvariantCulture), done.Meta("reposUnchanged"));
            var ours = new Run(proxy.Requests, directory.Requests, watch.Elapsed, changed);

            Console.WriteLine($"Freshness benchmark: {repos:N0} repos × {perRepo} records = {total:N0} records on one dev PDS, {changed} of them changed " +
                $"({changedPercent} %, one in each of {changed} repos), every record stale; {Environment.ProcessorCount} cores; " +
                "ScanWorker politeness as in the tests (200 requests/s per host)" +
                (latency > TimeSpan.Zero ? $"; every PDS and PLC request of the measured runs {latency.TotalMilliseconds:F0} ms slower (a proxy's delay)" : ""));
            Console.WriteLine();
            Console.WriteLine("| run | PDS requests | DID lookups | seconds | records/s | changes found | changes applied |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
            Row("ours: one revision per repo (listRepos), changed repos re-read", ours, total, changed, applied: changed);
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Ours: {used.Sum(p => p.Seconds):F1} CPU s of {watch.Elapsed.TotalSeconds * Environment.ProcessorCount:F1} ({Environment.ProcessorCount} cores × wall); busiest programs (CPU s): {CpuUse.Describe(used)}"));
            if (sequential is null || parallel is null)
            {
                return 0;
            }

            Row("Chive's pattern, sequential (the admin trigger's loop)", sequential, total, changed, applied: 0);
            Row("Chive's pattern, five at a time (the scheduled worker, without its 10/min per PDS)", parallel, total, changed, applied: 0);
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"PDS requests, Chive's pattern / ours: {(double)sequential.Requests / ours.Requests:F1}. Time, Chive's pattern / ours: " +
                $"{sequential.Elapsed / ours.Elapsed:F2} sequential, {parallel.Elapsed / ours.Elapsed:F2} five at a time."));
            return 0;
        }
        finally
        {
            await fixture.DisposeAsync();
            await directory.DisposeAsync();
        }
    }

    private sealed record Run(int Requests, int Lookups, TimeSpan Elapsed, int Changed);

    private sealed record HeldRecord(string Uri, string Did, string Collection, string Rkey, string Cid);

    private static async Task<List<HeldRecord>> HeldAsync(NpgsqlDataSource db)
    {
        await using var command = db.CreateCommand(
            "SELECT uri, did, collection, rkey, cid FROM indexed_records WHERE deleted_at IS NULL ORDER BY last_synced_at, uri");
        await using var reader = await command.ExecuteReaderAsync();
        var held = new List<HeldRecord>();
        while (await reader.ReadAsync())
        {
            held.Add(new HeldRecord(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4)));
        }

        return held;
    }

    /// <summary>
    /// Chive's refresh, request for request: per stale record, the DID resolved to its PDS (once per DID: the cache) and
    /// <c>getRecord</c> from it; a different CID is a change found. Nothing is stored (Chive would store the old content).
    /// </summary>
    private static async Task<Run> ChivePatternAsync(List<HeldRecord> held, HttpFaultProxy plc, HttpFaultProxy pds, int parallelism)
    {
        plc.ResetCount();
        pds.ResetCount();
        using var http = new HttpClient();
        var endpoints = new ConcurrentDictionary<string, Lazy<Task<string>>>(StringComparer.Ordinal);
        var found = 0;
        var watch = Stopwatch.StartNew();
        await Parallel.ForEachAsync(held, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, async (record, token) =>
        {
            var endpoint = await endpoints.GetOrAdd(record.Did, did => new Lazy<Task<string>>(async () =>
            {
                var document = JsonNode.Parse(await http.GetStringAsync($"{plc.BaseAddress.ToString().TrimEnd('/')}/{did}", token))!;
                return document["service"]!.AsArray().Single(s => s!["id"]!.GetValue<string>() == "#atproto_pds")!["serviceEndpoint"]!.GetValue<string>();
            })).Value;
            var answer = JsonNode.Parse(await http.GetStringAsync(
                $"{endpoint.TrimEnd('/')}/xrpc/com.atproto.repo.getRecord?repo={record.Did}&collection={record.Collection}&rkey={record.Rkey}", token))!;
            if (answer["cid"]!.GetValue<string>() != record.Cid)
            {
                Interlocked.Increment(ref found);
            }
        });
        watch.Stop();
        return new Run(pds.Requests, plc.Requests, watch.Elapsed, found);
    }

    private static void Row(string name, Run run, int records, int changed, int applied) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {run.Requests:N0} | {run.Lookups:N0} | {run.Elapsed.TotalSeconds:F1} | {records / run.Elapsed.TotalSeconds:N0} | {run.Changed} of {changed} | {applied} of {changed} |"));
}
