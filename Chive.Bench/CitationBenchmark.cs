using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Chive.Testing.Doubles;
using Chive.Tests.Citations;
using Chive.Tests.Infrastructure;
using Xunit;

namespace Chive.Bench;

/// <summary>
/// Citation extraction through the running system at the upstreams' real limits: <c>--eprints</c> eprints (default
/// 1,000) on the dev PDS, each with its own PDF (a real blob, read with getBlob) whose TEI names <c>--references</c>
/// references (default 30), all with DOIs. Semantic Scholar knows the eprint's reference list (one page) and every
/// reference but <c>--crossref-per-eprint</c> (default 1), which Crossref completes. The doubles enforce the limits and
/// count 429s: GROBID a pool of 4 threads taking <c>--grobid-ms</c> (default 200) per document, Semantic Scholar
/// <c>--s2-rate</c> requests a second (default 4: the 1,000 eprints take minutes, not the half hour of the 1/s default; the worker is
/// configured with the same), Crossref's polite pool (10 a second, 3 at once, from its headers). The table shows, per
/// service, the requests, the 429s and the rate achieved against the limit, over the time the run kept that service busy.
/// </summary>
internal static class CitationBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var eprints = Options.Int(args, "--eprints", 1000);
        var references = Math.Max(2, Options.Int(args, "--references", 30));
        var viaCrossref = Math.Clamp(Options.Int(args, "--crossref-per-eprint", 1), 0, references);
        var s2Rate = Options.Int(args, "--s2-rate", 4);
        var grobidMs = Options.Int(args, "--grobid-ms", 200);
        const int grobidThreads = 4;
        Console.Error.WriteLine($"[bench] starting the system; {eprints} eprints × {references} references");

        var fixture = new ChiveAppFixture
        {
            CitationWorkerSettings = new()
            {
                ["Citations__EprintsPerChunk"] = "500",
                ["Citations__ProgressEvery"] = "10",
                ["Citations__Grobid__Concurrency"] = grobidThreads.ToString(CultureInfo.InvariantCulture),
                ["Citations__SemanticScholar__RequestsPerSecond"] = s2Rate.ToString(CultureInfo.InvariantCulture),
                ["Citations__SemanticScholar__PageSize"] = "1000",
                ["Logging__LogLevel__Default"] = "Warning",
            },
        };
        await fixture.InitializeAsync();
        try
        {
            fixture.SemanticScholar.RatePerSecond = s2Rate;
            fixture.GrobidServer.PoolSize = grobidThreads;
            fixture.GrobidServer.ProcessingDelay = TimeSpan.FromMilliseconds(grobidMs);
            var accounts = await SeedAsync(fixture, eprints, references, viaCrossref);

            using var admin = fixture.CreateAdminClient();
            foreach (var account in accounts)
            {
                Assert.Equal("completed", (await admin.DidSyncAsync(account.Did)).Status());
            }

            var (s2Before, crossrefBefore, grobidBefore) = (fixture.SemanticScholar.Calls.Count, fixture.Crossref.Calls.Count, fixture.GrobidServer.Calls.Count);
            var clock = Stopwatch.StartNew();
            var started = await admin.PostAsync("triggerCitationExtraction", []);
            var run = await admin.WaitForEndAsync(started["operationId"]!.GetValue<string>(), TimeSpan.FromHours(2));
            var seconds = clock.Elapsed.TotalSeconds;
            Assert.Equal("completed", run.Status());

            var s2 = fixture.SemanticScholar.Calls.Skip(s2Before).ToList();
            var crossref = fixture.Crossref.Calls.Skip(crossrefBefore).ToList();
            var grobid = fixture.GrobidServer.Calls.Skip(grobidBefore).ToList();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Citation benchmark: {run.Records():N0} eprints × {references} references, {run.Meta("citationsExtracted")} citations stored, in {seconds:F1} s = {run.Records() / seconds:F2} eprints/s"));
            Console.WriteLine();
            Console.WriteLine("| service | limit | requests | 429 answered | busy seconds | rate achieved | achieved ÷ limit |");
            Console.WriteLine("|---|---|---:|---:|---:|---:|---:|");
            Row("Semantic Scholar", $"{s2Rate}/s", s2.Select(c => (c.Elapsed, c.Status)).ToList(), s2Rate);
            Row("Crossref (polite pool)", "10/s, 3 at once", crossref.Select(c => (c.Elapsed, c.Status)).ToList(), 10);
            var grobidCapacity = grobidThreads * 1000.0 / grobidMs;
            Row("GROBID", $"{grobidThreads} threads × {grobidMs} ms = {grobidCapacity:F0} documents/s", grobid.Select(c => (c.Elapsed, c.Status)).ToList(), grobidCapacity);
            Console.WriteLine();
            Console.WriteLine($"Operation metadata: {run["metadata"]!.ToJsonString()}");
            return 0;
        }
        finally
        {
            await fixture.DisposeAsync();
        }
    }

    /// <summary>One service's line: its rate over the span from its first to its last request.</summary>
    private static void Row(string service, string limit, List<(TimeSpan Elapsed, int Status)> calls, double limitPerSecond)
    {
        var tooMany = calls.Count(c => c.Status == 429);
        var span = calls.Count > 1 ? (calls.Max(c => c.Elapsed) - calls.Min(c => c.Elapsed)).TotalSeconds : 0;
        // n requests spaced 1 / rate apart span (n - 1) / rate seconds.
        var rate = span > 0 ? (calls.Count - 1) / span : 0;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {service} | {limit} | {calls.Count:N0} | {tooMany} | {span:F1} | {rate:F2}/s | {rate / limitPerSecond:F2} |"));
    }

    /// <summary>Accounts of 50 eprints each on PDS 0, each eprint with its PDF uploaded by its account's client (as the tests write them).</summary>
    private static async Task<List<SeededAccount>> SeedAsync(ChiveAppFixture fixture, int eprints, int references, int viaCrossref)
    {
        var network = fixture.Network;
        var accounts = new List<SeededAccount>();
        for (var a = 0; a * 50 < eprints; a++)
        {
            accounts.Add((await network.SeedAsync(0, new SeedAccount($"cites{a}.test", [])))[0]);
        }

        var world = new CitationWorld(fixture);
        var written = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, eprints), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (e, _) =>
        {
            var account = accounts[e / 50];
            var eprintDoi = $"10.7777/bench.{e}";
            var dois = Enumerable.Range(0, references).Select(r => $"10.7777/bench.{e}.ref{r}").ToList();
            var pdf = Encoding.ASCII.GetBytes($"%PDF-1.4\n% bench eprint {e}\n%%EOF\n");
            fixture.GrobidServer.AddDocument(pdf, GrobidDouble.Tei(dois.Select((doi, i) =>
                GrobidDouble.BiblStruct(i, i < viaCrossref ? null : $"Reference {i} of eprint {e}", [("Ada", "Lovelace")], i < viaCrossref ? null : 2000 + i % 20,
                    doi: doi, journal: "Bench Journal", raw: $"Lovelace A. Reference {i} of eprint {e}. Bench Journal ({2000 + i % 20})"))));
            var cited = new List<JsonObject>();
            for (var i = 0; i < references; i++)
            {
                if (i < viaCrossref)
                {
                    fixture.Crossref.AddWork(dois[i], CrossrefDouble.Work(dois[i], $"Reference {i} of eprint {e}", 2000 + i % 20, "Bench Journal"));
                    continue;
                }

                var paper = SemanticScholarDouble.Paper($"bench{e}r{i}", $"Reference {i} of eprint {e}", 2000 + i % 20, doi: dois[i], venue: "Bench Journal", authors: ["Ada Lovelace"]);
                fixture.SemanticScholar.AddPaper("DOI:" + dois[i], paper);
                cited.Add(paper);
            }

            fixture.SemanticScholar.AddReferences("DOI:" + eprintDoi, cited);
            await world.EprintAsync(account, $"Bench eprint {e}", pdf, eprintDoi);
            if (Interlocked.Increment(ref written) % 100 == 0)
            {
                Console.Error.WriteLine($"[bench] {written} of {eprints} eprints written");
            }
        });
        return accounts;
    }
}
