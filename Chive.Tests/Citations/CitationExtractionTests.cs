using System.Diagnostics;
using System.Text.Json.Nodes;
using Chive.Testing.Doubles;
using Chive.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Chive.Tests.Citations;

/// <summary>
/// Citation extraction end to end: eprints with real PDF blobs on the real PDS, the CitationWorker reading them with
/// getBlob and asking the GROBID, Semantic Scholar and Crossref doubles (which enforce the real services' limits and
/// log every request), citations stored in PostgreSQL.
/// </summary>
[Collection(ChiveAppCollection.Name)]
public sealed class CitationExtractionTests(ChiveAppFixture fixture, ITestOutputHelper output)
{
    private static readonly string[] NoAuthors = [];

    [Fact]
    public async Task An_eprint_gets_exactly_its_merged_and_matched_citations_user_citations_stay_and_a_second_run_writes_nothing()
    {
        var world = new CitationWorld(fixture);
        var g = world.Tag;
        var account = await world.AccountAsync("cite");
        string doiA = $"10.5555/a.{g}", doiC = $"10.5555/c.{g}", doiD = $"10.5555/d.{g}", doiE1 = $"10.5555/e1.{g}";

        // GROBID reads three references from the PDF: one with a DOI that Semantic Scholar knows, one without a DOI
        // whose title is one of our eprints, one with only a DOI (Crossref knows it, Semantic Scholar does not).
        var pdf = world.Pdf("citing", GrobidDouble.Tei(
        [
            GrobidDouble.BiblStruct(0, $"A study of eprint backfills {g}", [("Ada", "Lovelace")], 2020, doi: doiA.ToUpperInvariant(),
                journal: "Journal of Tests", volume: "12", pagesFrom: "1", pagesTo: "10", raw: $"Lovelace A. A study of eprint backfills {g}. J Tests 12:1-10 (2020)"),
            GrobidDouble.BiblStruct(1, $"Quantum widgets and their applications {g}", [("Grace", "Hopper")], 2019, raw: $"Hopper G. Quantum widgets {g}, 2019"),
            GrobidDouble.BiblStruct(2, null, [], null, doi: doiC),
        ]));
        fixture.SemanticScholar.AddPaper("DOI:" + doiA, SemanticScholarDouble.Paper($"s2a{g}", $"A study of eprint backfills {g}", 2020, doi: doiA,
            venue: "Journal of Tests", authors: ["Ada Lovelace"]));
        fixture.Crossref.AddWork(doiC, CrossrefDouble.Work(doiC, $"Crossref only title {g}", 2018, "Crossref Journal", volume: "3", page: "5-6",
            authors: [("Alan", "Turing")]));
        // Semantic Scholar's reference list of the eprint (three entries, read two per page): the DOI-A paper again, a
        // paper only S2 knows (one of our eprints by its DOI) and an unresolved reference (no paperId).
        fixture.SemanticScholar.AddReferences("DOI:" + doiE1,
        [
            SemanticScholarDouble.Paper($"s2a{g}", $"A study of eprint backfills {g}", 2020, doi: doiA, venue: "Journal of Tests", authors: ["Ada Lovelace"]),
            SemanticScholarDouble.Paper($"s2d{g}", $"Graph theory of citations {g}", 2021, doi: doiD, venue: "Graphs", authors: ["Edsger Dijkstra"]),
            SemanticScholarDouble.Paper(null, $"Unresolved reference {g}", null, authors: NoAuthors),
        ]);

        var citing = await world.EprintAsync(account, $"Citing paper {g}", pdf, doiE1);
        var byDoi = await world.EprintAsync(account, $"Graph theory of citations {g}", doi: doiD);
        var byTitle = await world.EprintAsync(account, $"Quantum Widgets and their Applications {g}!");
        // The author declares a citation of their own (a pub.chive.eprint.citation record): the scan makes it a
        // user-provided row, which extraction must never touch.
        var userCitation = await world.UserCitationAsync(account, citing, $"Declared by the author {g}", 1999);
        using var admin = fixture.CreateAdminClient();
        Assert.Equal("completed", (await admin.DidSyncAsync(account.Did)).Status());
        string[] userRow = [$"{userCitation} | Declared by the author {g} | 1999 | extends | {account.Did} | [\"Ada Lovelace\"]"];
        Assert.Equal(userRow, await world.UserRowsAsync(citing));

        var run = await CitationWorld.ExtractAsync(admin, new JsonObject { ["uri"] = citing });

        Assert.Equal(("completed", 1L), (run.Status(), run.Records()));
        Assert.Equal(
            ["5", "2", "0", "0", "3", "1", "0", "0", "1"],
            new[] { "citationsExtracted", "citationsMatched", "pdfMissing", "grobidFailures", "s2Lookups", "crossrefLookups", "cacheHits", "skippedUnchanged", "eprintsWritten" }
                .Select(k => run.Meta(k)));
        string[] expected =
        [
            $"A study of eprint backfills {g} | {doiA} | 2020 | Journal of Tests | grobid | grobid+semantic-scholar | 0.95 | - | - | - | "
                + "[{\"lastName\": \"Lovelace\", \"firstName\": \"Ada\"}] | " + $"Lovelace A. A study of eprint backfills {g}. J Tests 12:1-10 (2020) | 12 | 1-10",
            $"Quantum widgets and their applications {g} | - | 2019 | - | grobid | grobid | 0.60 | {byTitle} | title | 0.80 | "
                + "[{\"lastName\": \"Hopper\", \"firstName\": \"Grace\"}] | " + $"Hopper G. Quantum widgets {g}, 2019 | - | -",
            $"Crossref only title {g} | {doiC} | 2018 | Crossref Journal | grobid | grobid+crossref | 0.85 | - | - | - | "
                + "[{\"lastName\": \"Turing\", \"firstName\": \"Alan\"}] | - | 3 | 5-6",
            $"Graph theory of citations {g} | {doiD} | 2021 | Graphs | semantic-scholar | semantic-scholar | 0.90 | {byDoi} | doi | 1.00 | "
                + "[{\"lastName\": \"Dijkstra\", \"firstName\": \"Edsger\"}] | - | - | -",
            $"Unresolved reference {g} | - | - | - | semantic-scholar | semantic-scholar | 0.90 | - | - | - | [] | - | - | -",
        ];
        Assert.Equal(expected, await world.RowsAsync(citing));
        var grobidCall = fixture.GrobidServer.Calls.Single(c => c.Sha256 == GrobidDouble.Sha256Hex(pdf));
        Assert.Equal(("0", "1"), (grobidCall.ConsolidateCitations, grobidCall.IncludeRawCitations));
        var ids = await world.RowIdsAsync(citing);
        Assert.Equal(6, ids.Count); // five automatic rows and the user's own

        // Chive's four series on the CitationWorker's /metrics.
        using (var worker = fixture.CreateClient(Chive.ServiceDefaults.ResourceNames.CitationWorker))
        {
            var metrics = new PrometheusText(await worker.GetStringAsync("/metrics"));
            metrics.AssertHas("chive_citation_extractions_total", ("source", "grobid"), ("status", "success"));
            metrics.AssertHas("chive_citation_extractions_total", ("source", "crossref"), ("status", "success"));
            metrics.AssertHas("chive_citations_extracted_total", ("source", "semantic-scholar"));
            metrics.AssertHas("chive_citations_matched_total", ("match_method", "doi"));
            metrics.AssertHas("chive_citations_matched_total", ("match_method", "title"));
            metrics.AssertHasBucket("chive_citation_extraction_duration_seconds", 60, ("source", "semantic-scholar"), ("status", "success"));
        }

        // Unchanged document: skipped, nothing asked of anyone, nothing written.
        var again = await CitationWorld.ExtractAsync(admin, new JsonObject { ["uri"] = citing });
        Assert.Equal(("completed", "1", "0"), (again.Status(), again.Meta("skippedUnchanged"), again.Meta("eprintsWritten")));
        Assert.Equal(1, world.GrobidCalls(pdf));

        // Forced: GROBID reads the PDF again, the lookups come from the cache, and the same rows are not rewritten.
        var forced = await CitationWorld.ExtractAsync(admin, new JsonObject { ["uri"] = citing, ["force"] = true });
        Assert.Equal(("completed", "5", "0", "0", "4", "0"),
            (forced.Status(), forced.Meta("citationsExtracted"), forced.Meta("s2Lookups"), forced.Meta("crossrefLookups"), forced.Meta("cacheHits"), forced.Meta("eprintsWritten")));
        Assert.Equal(2, world.GrobidCalls(pdf));
        Assert.Equal(ids, await world.RowIdsAsync(citing));

        // Every live eprint: ours among them; the citing one is unchanged and asks GROBID nothing.
        var all = await CitationWorld.ExtractAsync(admin);
        Assert.Equal("completed", all.Status());
        Assert.True(all.Records() >= 3, all.ToJsonString());
        Assert.Equal(2, world.GrobidCalls(pdf));
        Assert.Equal(ids, await world.RowIdsAsync(citing));
        Assert.Equal(expected, await world.RowsAsync(citing));
        Assert.Empty(await world.RowsAsync(byTitle)); // no document, no DOI: nothing to extract, nothing invented
        Assert.Equal(userRow, await world.UserRowsAsync(citing));

        // The author deletes their declared citation: the next sync removes its row, and only it.
        await Chive.Tests.PdsScan.ScanWorld.CallAsUserAsync(world.Pds, account, "com.atproto.repo.deleteRecord", new JsonObject
        {
            ["repo"] = account.Did,
            ["collection"] = "pub.chive.eprint.citation",
            ["rkey"] = userCitation[(userCitation.LastIndexOf('/') + 1)..],
        });
        Assert.Equal("completed", (await admin.DidSyncAsync(account.Did)).Status());
        Assert.Empty(await world.UserRowsAsync(citing));
        Assert.Equal(expected, await world.RowsAsync(citing));
    }

    [Fact]
    public async Task Each_missing_or_failing_source_is_counted_and_the_run_completes()
    {
        var world = new CitationWorld(fixture);
        var g = world.Tag;
        var account = await world.AccountAsync("fail");
        using var admin = fixture.CreateAdminClient();

        var malformed = world.Pdf("malformed", "<TEI xmlns=\"http://www.tei-c.org/ns/1.0\"><text><back><listBibl><biblStruct>");
        var noReferences = world.Pdf("empty", null);
        var gone = world.Pdf("gone", GrobidDouble.Tei([GrobidDouble.BiblStruct(0, $"Never read {g}", [], 2000)]));
        var whileDown = world.Pdf("down", GrobidDouble.Tei([GrobidDouble.BiblStruct(0, $"Read once GROBID is back {g}", [], 2001)]));
        var teiMalformed = await world.EprintAsync(account, $"Malformed TEI {g}", malformed);
        var teiEmpty = await world.EprintAsync(account, $"No references {g}", noReferences);
        var noPdf = await world.EprintAsync(account, $"No PDF, unknown DOI {g}", doi: $"10.5555/unknown.{g}");
        var blobGone = await world.EprintAsync(account, $"PDF gone {g}", gone);
        var grobidDown = await world.EprintAsync(account, $"GROBID down {g}", whileDown);
        Assert.Equal("completed", (await admin.DidSyncAsync(account.Did)).Status());
        // The PDS no longer has the document the index names (a blob CID it never had).
        await world.ExecuteAsync("UPDATE eprints_index SET document_blob_cid = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku' WHERE uri = @u", ("u", blobGone));

        async Task<JsonObject> OneAsync(string uri)
        {
            var run = await CitationWorld.ExtractAsync(admin, new JsonObject { ["uri"] = uri });
            Assert.Equal(("completed", 1L), (run.Status(), run.Records()));
            return run;
        }

        string[] Counts(JsonObject run) =>
            [.. new[] { "citationsExtracted", "pdfMissing", "pdfUnavailable", "grobidFailures", "s2NotFound" }.Select(k => run.Meta(k)!)];

        Assert.Equal(["0", "0", "0", "1", "0"], Counts(await OneAsync(teiMalformed)));
        Assert.Equal(["0", "0", "0", "0", "0"], Counts(await OneAsync(teiEmpty)));
        Assert.Equal(["0", "1", "0", "0", "1"], Counts(await OneAsync(noPdf)));
        Assert.Equal(["0", "1", "0", "0", "0"], Counts(await OneAsync(blobGone)));
        Assert.Equal(0, world.GrobidCalls(gone));

        fixture.Grobid.Cut();
        try
        {
            Assert.Equal(["0", "0", "0", "1", "0"], Counts(await OneAsync(grobidDown)));
        }
        finally
        {
            fixture.Grobid.Restore();
        }

        // A failure is not a success: the same document is read again by the next run (no force needed).
        Assert.Equal(["1", "0", "0", "0", "0"], Counts(await OneAsync(grobidDown)));
        Assert.Equal(1, world.GrobidCalls(whileDown));
        Assert.Equal(["0", "0", "0", "1", "0"], Counts(await OneAsync(teiMalformed)));
    }

    [Fact]
    public async Task Many_eprints_at_once_keep_to_every_upstream_limit_and_sit_out_Retry_After()
    {
        var world = new CitationWorld(fixture);
        var g = world.Tag;
        var account = await world.AccountAsync("limits");
        using var admin = fixture.CreateAdminClient();
        const int eprints = 8, references = 4;
        var pdfs = new List<byte[]>();
        var uris = new List<string>();
        for (var e = 0; e < eprints; e++)
        {
            // Every reference has a DOI and no title: Semantic Scholar's batch lookup, then Crossref, for each.
            var dois = Enumerable.Range(0, references).Select(r => $"10.5555/l{e}r{r}.{g}").ToList();
            foreach (var doi in dois.Take(2))
            {
                fixture.Crossref.AddWork(doi, CrossrefDouble.Work(doi, $"Work {doi}", 2010, "Limits Journal"));
            }

            pdfs.Add(world.Pdf($"limits{e}", GrobidDouble.Tei(dois.Select((doi, i) => GrobidDouble.BiblStruct(i, null, [], null, doi: doi)))));
            fixture.SemanticScholar.AddReferences($"DOI:10.5555/l{e}.{g}", [SemanticScholarDouble.Paper($"s2l{e}{g}", $"Cited by {e} {g}", 2015)]);
            uris.Add(await world.EprintAsync(account, $"Limits {e} {g}", pdfs[^1], $"10.5555/l{e}.{g}"));
        }

        Assert.Equal("completed", (await admin.DidSyncAsync(account.Did)).Status());
        var (s2Before, crossrefBefore, grobidBefore) = (fixture.SemanticScholar.Calls.Count, fixture.Crossref.Calls.Count, fixture.GrobidServer.Calls.Count);
        fixture.GrobidServer.ProcessingDelay = TimeSpan.FromMilliseconds(300);
        fixture.GrobidServer.BusyAnswers = 3;
        fixture.SemanticScholar.ForceTooManyRequests = 2;
        var forcedBefore = fixture.SemanticScholar.Forced429;
        var tooEarlyBefore = fixture.SemanticScholar.TooEarly429;
        var clock = Stopwatch.StartNew();
        JsonObject run;
        try
        {
            run = await CitationWorld.ExtractAsync(admin);
        }
        finally
        {
            fixture.GrobidServer.ProcessingDelay = TimeSpan.Zero;
        }

        output.WriteLine($"{run.Records()} eprints in {clock.Elapsed.TotalSeconds:F1} s: {run["metadata"]!.ToJsonString()}");
        Assert.Equal("completed", run.Status());
        foreach (var pdf in pdfs)
        {
            Assert.Equal(1, fixture.GrobidServer.Calls.Count(c => c.Sha256 == GrobidDouble.Sha256Hex(pdf) && c.Status == 200));
        }

        // GROBID: never more in flight than Citations:Grobid:Concurrency (2); its 503s sent again, not failures.
        Assert.InRange(fixture.GrobidServer.MaxInFlight, 1, 2);
        Assert.Equal(3, fixture.GrobidServer.Calls.Skip(grobidBefore).Count(c => c.Status == 503));
        // Semantic Scholar: never faster than the rate it enforces, and nothing sent before a Retry-After was over.
        Assert.Equal(2, fixture.SemanticScholar.Forced429 - forcedBefore);
        // A Retry-After is never broken (arriving late cannot break it). A gap between two arrivals can shrink below the
        // interval only when the first request was held on its way (a 2-core machine under the whole suite's load held
        // one by 75 ms in 1 run of many): at most 1 % of the requests, where a client that did not pace would be refused
        // on most of them.
        Assert.Equal(0, fixture.SemanticScholar.RetryAfterViolations);
        var s2Requests = fixture.SemanticScholar.Calls.Count - s2Before;
        Assert.InRange(fixture.SemanticScholar.TooEarly429 - tooEarlyBefore, 0, Math.Max(1, s2Requests / 100));
        Assert.True(fixture.SemanticScholar.Calls.Skip(s2Before).All(c => c.ApiKey == ChiveAppFixture.SemanticScholarKey), "every S2 request carries the key");
        // Crossref: the polite pool (the contact is in the User-Agent), within its rate and concurrency, no 429.
        var crossrefCalls = fixture.Crossref.Calls.Skip(crossrefBefore).ToList();
        Assert.Equal(eprints * references, crossrefCalls.Count);
        Assert.All(crossrefCalls, c => Assert.Equal("polite", c.Pool));
        Assert.Equal(0, fixture.Crossref.TooManyRequests);
        Assert.InRange(fixture.Crossref.MaxInFlight, 1, 3);
        foreach (var uri in uris)
        {
            Assert.Equal(references + 1, (await world.RowsAsync(uri)).Count);
        }
    }

    [Fact]
    public async Task Cancel_mid_run_stops_asking_GROBID_and_leaves_each_eprint_whole_or_untouched()
    {
        var (world, uris, pdfs) = await SlowWorldAsync("cancel");
        using var admin = fixture.CreateAdminClient();
        fixture.GrobidServer.ProcessingDelay = TimeSpan.FromMilliseconds(700);
        try
        {
            var id = (await admin.PostAsync("triggerCitationExtraction", []))["operationId"]!.GetValue<string>();
            await admin.WaitForAsync(id, op => pdfs.Count(p => world.GrobidCalls(p) > 0) >= 2);
            await admin.PostAsync("cancelBackfill", new JsonObject { ["id"] = id });
            Assert.Equal("cancelled", (await admin.WaitForEndAsync(id)).Status());
            var atCancel = pdfs.Sum(world.GrobidCalls);
            await Task.Delay(TimeSpan.FromSeconds(3));

            // At most what was in flight (Citations:Grobid:Concurrency, 2) reaches GROBID after the cancel.
            var after = pdfs.Sum(world.GrobidCalls);
            output.WriteLine($"GROBID calls at the cancel {atCancel}, 3 s later {after}, of {pdfs.Count}");
            Assert.InRange(after - atCancel, 0, 2);
            Assert.True(after < pdfs.Count, $"{after} of {pdfs.Count} documents were read: the cancel stopped nothing");
        }
        finally
        {
            fixture.GrobidServer.ProcessingDelay = TimeSpan.Zero;
        }

        foreach (var uri in uris)
        {
            Assert.Contains((await world.RowsAsync(uri)).Count, new[] { 0, 2 });
        }
    }

    [Fact]
    public async Task A_citation_worker_killed_mid_run_and_restarted_ends_with_exactly_the_rows_of_a_clean_run()
    {
        var (world, uris, pdfs) = await SlowWorldAsync("kill");
        using var admin = fixture.CreateAdminClient();
        fixture.GrobidServer.ProcessingDelay = TimeSpan.FromMilliseconds(500);
        var live = await world.LiveEprintsAsync();
        JsonObject done;
        try
        {
            var id = (await admin.PostAsync("triggerCitationExtraction", []))["operationId"]!.GetValue<string>();
            await admin.WaitForAsync(id, op => pdfs.Count(p => world.GrobidCalls(p) > 0) >= 3);
            await ChiveAppFixture.KillAsync("Chive.CitationWorker");
            await fixture.StartServiceAsync(Chive.ServiceDefaults.ResourceNames.CitationWorker);
            done = await admin.WaitForEndAsync(id, TimeSpan.FromMinutes(3));
        }
        finally
        {
            fixture.GrobidServer.ProcessingDelay = TimeSpan.Zero;
        }

        Assert.Equal("completed", done.Status());
        var rows = new Dictionary<string, List<string>>();
        foreach (var uri in uris)
        {
            rows[uri] = await world.RowsAsync(uri);
            Assert.Equal(2, rows[uri].Count);
        }

        // A forced run from scratch finds exactly these rows (and so writes none).
        var forced = await CitationWorld.ExtractAsync(admin, new JsonObject { ["uri"] = uris[0], ["force"] = true });
        Assert.Equal(("completed", "0"), (forced.Status(), forced.Meta("eprintsWritten")));
        Assert.Equal(live, done.Records()); // every eprint counted once, the ones done before the kill included
    }

    /// <summary>Eight eprints, each with a PDF of two references (one with a DOI Semantic Scholar knows), indexed.</summary>
    private async Task<(CitationWorld World, List<string> Uris, List<byte[]> Pdfs)> SlowWorldAsync(string name)
    {
        var world = new CitationWorld(fixture);
        var g = world.Tag;
        var account = await world.AccountAsync(name);
        var uris = new List<string>();
        var pdfs = new List<byte[]>();
        for (var e = 0; e < 8; e++)
        {
            var doi = $"10.5555/{name}{e}.{g}";
            fixture.SemanticScholar.AddPaper("DOI:" + doi, SemanticScholarDouble.Paper($"s2{name}{e}{g}", $"Known to S2 {e} {g}", 2011, doi: doi, venue: "S2 Venue"));
            pdfs.Add(world.Pdf($"{name}{e}", GrobidDouble.Tei(
            [
                GrobidDouble.BiblStruct(0, $"Reference one of {e} {g}", [("Ann", "One")], 2001, journal: "First Journal"),
                GrobidDouble.BiblStruct(1, null, [], null, doi: doi),
            ])));
            uris.Add(await world.EprintAsync(account, $"{name} {e} {g}", pdfs[^1]));
        }

        using var admin = fixture.CreateAdminClient();
        Assert.Equal("completed", (await admin.DidSyncAsync(account.Did)).Status());
        return (world, uris, pdfs);
    }

    [Fact]
    public async Task An_eprint_we_do_not_hold_fails_the_run_saying_so()
    {
        using var admin = fixture.CreateAdminClient();
        const string uri = "at://did:plc:bbbbbbbbbbbbbbbbbbbbbbbb/pub.chive.eprint.submission/3k2bbbbbbbb2b";

        var run = await CitationWorld.ExtractAsync(admin, new JsonObject { ["uri"] = uri });

        Assert.Equal("failed", run.Status());
        Assert.StartsWith($"NotFound: no live eprint {uri} is indexed", run["error"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}
