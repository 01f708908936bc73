using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Chive.IndexWorker.Search;
using Chive.Tests.Infrastructure;
using Npgsql;
using Xunit;

namespace Chive.Bench;

/// <summary>
/// Full reindex, ours against Chive's pattern, on the same PostgreSQL and the same Elasticsearch endpoint (the double,
/// or a real cluster with CHIVE_TEST_ELASTICSEARCH_URL). Seeds N eprints into the system's database, then:
/// ours — <c>triggerFullReindex</c> through the running system (saga → IndexWorker), timed to <c>completed</c>, peak RSS
/// of the IndexWorker process; Chive's — a child process doing what <c>triggerFullReindex.ts</c> does: OFFSET pages of
/// URIs ordered by <c>indexed_at</c> with a COUNT per page, all held in memory, then per eprint one query and one
/// index request, sequentially; its own peak RSS.
/// </summary>
internal static class ReindexBenchmark
{
    private const string ChiveIndex = "chive-pattern";

    public static async Task<int> RunAsync(string[] args)
    {
        var eprints = Options.Int(args, "--eprints", 100_000);
        var batchSize = Options.Int(args, "--batch-size", 500);
        // The Elasticsearch double in a process of its own (as a cluster would be), unless a real one is given.
        using var search = ChiveAppFixture.RealElasticsearch is null ? await StartSearchDoubleAsync() : null;
        Console.Error.WriteLine($"[bench] starting the system and seeding {eprints:N0} eprints");
        var fixture = new ChiveAppFixture { ServiceSettings = Options.Settings(args), ProxyServers = false };
        await fixture.InitializeAsync();
        try
        {
            await SeedAsync(fixture.DatabaseConnectionString, eprints);
            using var admin = fixture.CreateAdminClient();
            var indexWorker = Process.GetProcessesByName("Chive.IndexWorker").Single();

            // The peak during the reindex: VmHWM reset to the current RSS when it starts (what the process reached while
            // starting — compiling, migrating — is printed beside it, not counted).
            var sinceStart = Status(indexWorker.Id, "VmHWM");
            await File.WriteAllTextAsync($"/proc/{indexWorker.Id}/clear_refs", "5");
            var atStart = Status(indexWorker.Id, "VmRSS");
            var (anonAtStart, fileAtStart) = (Status(indexWorker.Id, "RssAnon"), Status(indexWorker.Id, "RssFile"));
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[bench] ours: triggerFullReindex (IndexWorker RSS {atStart / 1024.0:F0} MiB; its peak before, starting up: {sinceStart / 1024.0:F0} MiB)"));
            var cpu = CpuUse.Snapshot();
            var watch = Stopwatch.StartNew();
            var started = await admin.PostAsync("triggerFullReindex", new JsonObject { ["batchSize"] = batchSize });
            var done = await admin.WaitForEndAsync(started["operationId"]!.GetValue<string>(), TimeSpan.FromHours(1));
            watch.Stop();
            Assert.Equal("completed", done.Status());
            Assert.Equal(eprints, done.Records());
            var ours = (Seconds: watch.Elapsed.TotalSeconds, PeakKb: PeakKb(indexWorker.Id));
            var oursCpu = CpuUse.Since(cpu);
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[bench] the IndexWorker after the reindex: RSS {Status(indexWorker.Id, "VmRSS") / 1024.0:F0} MiB = " +
                $"anonymous {Status(indexWorker.Id, "RssAnon") / 1024.0:F0} + files {Status(indexWorker.Id, "RssFile") / 1024.0:F0} + shared; " +
                $"before: RSS {atStart / 1024.0:F0} = anonymous {anonAtStart / 1024.0:F0} + files {fileAtStart / 1024.0:F0} + shared"));
            // Directly, as the services reach it (not through the fixture's TCP proxy): Chive's pattern is measured the same way.
            var esUrl = (ChiveAppFixture.RealElasticsearch ?? fixture.ElasticsearchServer.BaseAddress).ToString().TrimEnd('/');
            Assert.Equal(eprints, await CountAsync(esUrl, SearchWriter.Alias));

            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[bench] ours: {ours.Seconds:F1} s, peak RSS {ours.PeakKb / 1024.0:F0} MiB; " +
                $"CPU s {oursCpu.Sum(p => p.Seconds):F1} of {ours.Seconds * Environment.ProcessorCount:F1}: {CpuUse.Describe(oursCpu)}"));
            if (args.Contains("--ours-only"))
            {
                return 0; // for trying settings quickly: Chive's pattern takes a minute and a half
            }

            Console.Error.WriteLine("[bench] Chive's pattern (child process)");
            cpu = CpuUse.Snapshot();
            var chive = await RunChildAsync(fixture.DatabaseConnectionString, esUrl);
            // The child has ended by now: its own CPU time comes from its output.
            var chiveCpu = CpuUse.Since(cpu).Append((Program: "Chive's pattern", Seconds: chive.CpuSeconds)).OrderByDescending(p => p.Seconds).ToList();
            var chiveDocuments = await CountAsync(esUrl, ChiveIndex);
            if (chiveDocuments != eprints)
            {
                Console.Error.WriteLine($"[bench] Chive's pattern left {chiveDocuments:N0} documents for {eprints:N0} eprints");
            }

            Console.WriteLine($"Full reindex benchmark: {eprints:N0} eprints, batch size {batchSize}, PostgreSQL 15 and the " +
                $"{(search is not null ? "Elasticsearch double (its own process)" : "Elasticsearch at " + ChiveAppFixture.RealElasticsearch)} on loopback, " +
                $"{Environment.ProcessorCount} cores");
            Console.WriteLine();
            Console.WriteLine("| reindex | seconds | documents/s | peak RSS (MiB) |");
            Console.WriteLine("|---|---:|---:|---:|");
            Row("ours (keyset pages, one query per page, _bulk, new index + alias swap; IndexWorker process)", ours.Seconds, eprints, ours.PeakKb);
            Row("Chive's pattern (OFFSET + COUNT per page, all URIs in memory, one query + one index request per eprint)", chive.Seconds, eprints, chive.PeakKb);
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Ratio: ours is {chive.Seconds / ours.Seconds:F1}× faster."));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"The IndexWorker's RSS when the reindex started: {atStart / 1024.0:F0} MiB (its peak until then, starting up: " +
                $"{sinceStart / 1024.0:F0} MiB); its peak during the reindex is the table's."));
            Console.WriteLine();
            Console.WriteLine($"CPU seconds by program during each (all processes on the machine; capacity = {Environment.ProcessorCount} cores × wall):");
            Console.WriteLine();
            Console.WriteLine("| reindex | capacity s | CPU s, all | busiest programs (CPU s) |");
            Console.WriteLine("|---|---:|---:|---|");
            foreach (var (name, seconds, use) in new[] { ("ours", ours.Seconds, oursCpu), ("Chive's pattern", chive.Seconds, chiveCpu) })
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {name} | {seconds * Environment.ProcessorCount:F1} | {use.Sum(p => p.Seconds):F1} | {CpuUse.Describe(use)} |"));
            }
            BenchSummary.Add($"Full reindex of {eprints:N0} eprints, × Chive's pattern", $"{chive.Seconds / ours.Seconds:F1}×", "≥ 10×");
            BenchSummary.Add("Full reindex: the IndexWorker's peak RSS during it",
                $"{ours.PeakKb / 1024.0:F0} MiB (at its start {atStart / 1024.0:F0}; peak while starting {sinceStart / 1024.0:F0})", "≤ 200 MiB");
            return 0;
        }
        finally
        {
            await fixture.DisposeAsync();
        }
    }

    /// <summary>The child process's work: Chive's reindex loop. Prints "documents seconds peakKb cpuSeconds".</summary>
    public static async Task<int> RunChivePatternAsync(string connectionString, string esUrl)
    {
        var watch = Stopwatch.StartNew();
        await using var db = NpgsqlDataSource.Create(connectionString);
        var uris = new List<string>();
        for (var offset = 0; ; offset += 500)
        {
            await using (var count = db.CreateCommand("SELECT count(*) FROM eprints_index WHERE deleted_at IS NULL"))
            {
                await count.ExecuteScalarAsync();
            }

            await using var page = db.CreateCommand("SELECT uri FROM eprints_index WHERE deleted_at IS NULL ORDER BY indexed_at DESC LIMIT 500 OFFSET @offset");
            page.Parameters.AddWithValue("offset", offset);
            var before = uris.Count;
            await using (var reader = await page.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    uris.Add(reader.GetString(0));
                }
            }

            if (uris.Count - before < 500)
            {
                break;
            }
        }

        using var http = new HttpClient { BaseAddress = new Uri(esUrl) };
        var indexed = 0;
        foreach (var uri in uris)
        {
            await using var connection = await db.OpenConnectionAsync();
            var document = (await EprintDocuments.ForUrisAsync(connection, null, [uri], CancellationToken.None)).Single();
            using var response = await http.PutAsJsonAsync($"/{ChiveIndex}/_doc/{Uri.EscapeDataString(uri)}", document);
            response.EnsureSuccessStatusCode();
            indexed++;
        }

        var cpu = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{indexed} {watch.Elapsed.TotalSeconds:F3} {PeakKb(Environment.ProcessId)} {cpu:F2}"));
        return 0;
    }

    private static async Task<(long Documents, double Seconds, long PeakKb, double CpuSeconds)> RunChildAsync(string connectionString, string esUrl)
    {
        using var child = Process.Start(Self("chive-pattern", connectionString, esUrl))!;
        var output = await child.StandardOutput.ReadToEndAsync();
        await child.WaitForExitAsync();
        Assert.Equal(0, child.ExitCode);
        var parts = output.Trim().Split(' ');
        return (long.Parse(parts[0], CultureInfo.InvariantCulture), double.Parse(parts[1], CultureInfo.InvariantCulture),
            long.Parse(parts[2], CultureInfo.InvariantCulture), double.Parse(parts[3], CultureInfo.InvariantCulture));
    }

    /// <summary>This benchmark's own executable with <paramref name="args"/>, its output read by the caller.</summary>
    private static ProcessStartInfo Self(params string[] args)
    {
        var self = Environment.ProcessPath!;
        var start = new ProcessStartInfo(self) { RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            start.ArgumentList.Add(typeof(ReindexBenchmark).Assembly.Location);
        }

        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return start;
    }

    /// <summary>
    /// Starts <c>Chive.Bench search-double</c> and points the fixture at it (<c>CHIVE_TEST_ELASTICSEARCH_URL</c>); the
    /// child compiles once, optimised, like the services (a cluster is warm). Disposing the handle ends it.
    /// </summary>
    internal static async Task<SearchDoubleProcess> StartSearchDoubleAsync()
    {
        var start = Self("search-double");
        start.Environment["DOTNET_TieredCompilation"] = "0";
        var child = Process.Start(start)!;
        var url = (await child.StandardOutput.ReadLineAsync())!.Trim();
        Environment.SetEnvironmentVariable("CHIVE_TEST_ELASTICSEARCH_URL", url);
        return new SearchDoubleProcess(child);
    }

    /// <summary>The child's work: the Elasticsearch double until its standard input closes. Prints its URL first.</summary>
    public static async Task<int> RunSearchDoubleAsync()
    {
        await using var server = await Chive.Testing.Doubles.ElasticsearchDouble.StartNewAsync();
        Console.WriteLine(server.BaseAddress.ToString().TrimEnd('/'));
        await Console.In.ReadToEndAsync();
        return 0;
    }

    internal sealed class SearchDoubleProcess(Process child) : IDisposable
    {
        public void Dispose()
        {
            Environment.SetEnvironmentVariable("CHIVE_TEST_ELASTICSEARCH_URL", null);
            child.StandardInput.Close();
            if (!child.WaitForExit(5000))
            {
                child.Kill();
            }

            child.Dispose();
        }
    }

    /// <summary>
    /// Eprints as the projection stores them: two authors, a field, keywords, a 900-character abstract; last written a
    /// day ago, each with its own indexed_at (with ties, Chive's OFFSET paging over indexed_at skips and repeats rows).
    /// </summary>
    private static async Task SeedAsync(string connectionString, int count)
    {
        await using var db = NpgsqlDataSource.Create(connectionString);
        await using var command = db.CreateCommand("""
            INSERT INTO eprints_index (uri, cid, submitted_by, authors, title, abstract_plain_text, keywords, fields, license,
                                       published_version, created_at, pds_url, indexed_at, updated_at, last_synced_at)
            SELECT 'at://did:plc:benchaaaaaaaaaaaaaaaaaaa/pub.chive.eprint.submission/3kb' || lpad(i::text, 10, '0'),
                   'bafyreibench' || i, 'did:plc:benchaaaaaaaaaaaaaaaaaaa',
                   jsonb_build_array(jsonb_build_object('did', 'did:plc:benchaaaaaaaaaaaaaaaaaaa', 'name', 'Author ' || i, 'order', 1),
                                     jsonb_build_object('name', 'Coauthor ' || i, 'order', 2)),
                   'A study of benchmark number ' || i, repeat('Sentences about results and methods. ', 25),
                   ARRAY['benchmark', 'k' || (i % 100)],
                   jsonb_build_array(jsonb_build_object('uri', 'at://did:plc:aaaaaaaaaaaaaaaaaaaaaaaa/pub.chive.graph.node/physics', 'label', 'Physics')),
                   'CC-BY-4.0', jsonb_build_object('doi', '10.5555/bench.' || i),
                   now() - interval '30 days', 'https://pds.example', now() - interval '1 day' - i * interval '1 second',
                   now() - interval '1 day', now() - interval '1 day'
            FROM generate_series(1, @count) AS i
            """);
        command.CommandTimeout = 600;
        command.Parameters.AddWithValue("count", count);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<long> CountAsync(string esUrl, string index)
    {
        using var http = new HttpClient { BaseAddress = new Uri(esUrl) };
        (await http.PostAsync($"/{index}/_refresh", null)).EnsureSuccessStatusCode();
        var body = await http.GetFromJsonAsync<JsonElement>($"/{index}/_count");
        return body.GetProperty("count").GetInt64();
    }

    /// <summary>VmHWM: the process's peak resident set size, in KiB — since it started, or since it was last reset through <c>clear_refs</c>.</summary>
    private static long PeakKb(int pid) => Status(pid, "VmHWM");

    /// <summary>A KiB value of <c>/proc/PID/status</c> (<c>VmHWM</c>: peak RSS; <c>VmRSS</c>: RSS now).</summary>
    private static long Status(int pid, string field) =>
        File.ReadLines($"/proc/{pid}/status").Where(l => l.StartsWith(field + ":", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture)).Single();

    private static void Row(string name, double seconds, long documents, long peakKb) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {seconds:F1} | {documents / seconds:N0} | {peakKb / 1024.0:N0} |"));
}

internal static class Options
{
    public static int Int(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var value) ? value : fallback;
    }

    /// <summary>Every <c>--set Name=Value</c>: a setting given to every service (e.g. <c>Logging__LogLevel__Npgsql=Warning</c>).</summary>
    public static Dictionary<string, string> Settings(string[] args) =>
        args.Select((a, i) => (a, i)).Where(p => p.a == "--set" && p.i + 1 < args.Length).Select(p => args[p.i + 1].Split('=', 2))
            .Where(kv => kv.Length == 2).ToDictionary(kv => kv[0], kv => kv[1]);
}
