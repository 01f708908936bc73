using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Chive.ServiceDefaults;
using Chive.Testing.Doubles;
using Chive.Tests.Infrastructure;

namespace Chive.Tests.PdsScan;

/// <summary>
/// PDS scan end to end: XRPC trigger → saga → ScanWorker reading three real PDSes (through request-logging proxies)
/// → IndexWorker → PostgreSQL and Elasticsearch (the double), with the registry, deletions, cancel and crashes.
/// </summary>
public abstract class PdsScanSuite(ChiveAppFixture fixture)
{
    private ScanDatabase Db => new(fixture.DatabaseConnectionString);

    [Fact]
    public async Task A_scan_of_due_PDSes_indexes_exactly_the_chive_records_and_records_every_outcome()
    {
        var world = await ScanWorld.GetAsync(fixture);
        var refused = $"http://127.0.0.1:{TestServers.UnusedPort()}";
        await using var failing = await HttpFaultProxy.StartNewAsync(world.PdsA);
        failing.Always = new HttpFault.Status(500);
        failing.Meter = world.Meter;

        // Only these five are due: everything other tests registered is pushed into the future.
        await Db.ExecuteAsync("UPDATE pds_registry SET next_scan_at = now() + interval '10 years'");
        foreach (var url in new[] { ScanWorld.Origin(world.A), ScanWorld.Origin(world.B), ScanWorld.Origin(world.C), refused, ScanWorld.Origin(failing) })
        {
            await Db.ExecuteAsync("""
                INSERT INTO pds_registry (pds_url, discovery_source) VALUES (@url, 'admin')
                ON CONFLICT (pds_url) DO UPDATE SET next_scan_at = NULL, status = 'pending', consecutive_failures = 0
                """, ("url", url));
        }

        foreach (var proxy in new[] { world.A, world.B, world.C })
        {
            proxy.ResetCount();
        }

        using var admin = fixture.CreateAdminClient();
        // force: every repo read whole, whatever other tests of this fixture read before (a repo listed with the verified
        // commit we recorded for it would be confirmed unread — that has a test of its own).
        var started = await admin.PostAsync("triggerPDSScan", new JsonObject { ["force"] = true });
        var done = await admin.WaitForEndAsync(started["operationId"]!.GetValue<string>());

        Assert.Equal("completed", done.Status());
        var expected = world.ExpectedRecords;
        Assert.Equal(expected.Count, done.Records());
        Assert.Equal("1", done.Meta("invalidRecords"));
        Assert.Equal("3", done.Meta("pdsesScanned"));
        Assert.Equal("2", done.Meta("pdsesFailed"));
        Assert.Equal("1", done.Meta("reposSkipped")); // dave, deactivated

        // Exactly the valid pub.chive records, nothing of app.bsky, nothing of the deactivated or malformed.
        var stored = await Db.LiveRecordsAsync(world.Alice.Did, world.Bob.Did, world.Carol.Did, world.Dave.Did, world.Erin.Did, world.Frank.Did);
        Assert.Equal(expected.OrderBy(p => p.Key), stored.OrderBy(p => p.Key));
        Assert.Equal(world.ExpectedEprints, await Db.LiveEprintsAsync(world.Alice.Did, world.Carol.Did, world.Dave.Did));

        var documents = new Dictionary<string, JsonObject>();
        foreach (var account in new[] { world.Alice, world.Bob, world.Carol, world.Dave, world.Erin, world.Frank })
        {
            foreach (var (id, source) in await fixture.SearchDocumentsAsync($"at://{account.Did}/"))
            {
                documents[id] = source;
            }
        }

        Assert.Equal(world.ExpectedEprints, documents.Keys.Order(StringComparer.Ordinal));
        var legacy = documents.Values.Single(d => d["title"]!.GetValue<string>() == "Legacy fields still index");
        Assert.Equal("MIT", legacy["license"]!.GetValue<string>());
        Assert.Equal("10.1234/legacy", legacy["doi"]!.GetValue<string>());
        Assert.Equal("Biology", legacy["fields"]![0]!["label"]!.GetValue<string>());
        Assert.Equal("Plain abstract of Legacy fields still index.", legacy["abstract"]!.GetValue<string>());

        // The registry: records found → active; none → no_chive_records; failures back off and are not "no records".
        var registry = fixture.Registry();
        var a = (await registry.GetAsync(world.A.BaseAddress))!;
        Assert.Equal(("active", true, 267), (a.Status, a.HasChiveRecords, a.ChiveRecordCount));
        Assert.InRange(a.NextScanAt!.Value - DateTimeOffset.UtcNow, TimeSpan.FromHours(23), TimeSpan.FromHours(24));
        var b = (await registry.GetAsync(world.B.BaseAddress))!;
        Assert.Equal(("active", true, 4), (b.Status, b.HasChiveRecords, b.ChiveRecordCount)); // 4 listed, 1 of them invalid
        var c = (await registry.GetAsync(world.C.BaseAddress))!;
        Assert.Equal(("no_chive_records", false, 0), (c.Status, c.HasChiveRecords, c.ChiveRecordCount));
        Assert.InRange(c.NextScanAt!.Value - DateTimeOffset.UtcNow, TimeSpan.FromHours(167), TimeSpan.FromHours(168));
        foreach (var url in new[] { refused, ScanWorld.Origin(failing) })
        {
            var row = (await registry.GetAsync(new Uri(url)))!;
            Assert.Equal(("pending", false, 1), (row.Status, row.HasChiveRecords, row.ConsecutiveFailures));
            Assert.False(string.IsNullOrEmpty(row.LastError));
            Assert.InRange(row.NextScanAt!.Value - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(55), TimeSpan.FromHours(1));
            Assert.Null(row.LeaseOwner);
        }

        // Politeness: a repo without Chive data costs one describeRepo and nothing else; C has two repos, two
        // listRepos pages of 2 (PdsScan:ReposPerChunk = 2 here) and the empty page after them.
        Assert.Equal(2, world.C.CountOf("com.atproto.repo.describeRepo"));
        Assert.Equal((0, 0), (world.C.CountOf("com.atproto.repo.listRecords"), world.C.CountOf("com.atproto.sync.getRepo")));
        Assert.Equal(2, world.C.CountOf("com.atproto.sync.listRepos"));
        // Alice's 260 tags are three pages; the app.bsky posts are never listed.
        Assert.DoesNotContain(world.A.Log, l => l.Contains("app.bsky", StringComparison.Ordinal));
        Assert.InRange(world.Meter.MaxConcurrentHosts, 1, 2);
        // In verified mode one getRepo per repo with Chive records, and no listRecords; in listing mode no getRepo.
        string[] reads = ["GET /xrpc/com.atproto.sync.listRepos", "GET /xrpc/com.atproto.repo.describeRepo", "GET /xrpc/" + fixture.RepoReadMethod, "GET /xrpc/com.atproto.sync.getLatestCommit"];
        if (fixture.Verified)
        {
            Assert.Equal(2, world.A.CountOf("com.atproto.sync.getRepo")); // alice and bob; erin and frank have no Chive records
        }
        Assert.All(world.A.Log.Concat(world.B.Log).Concat(world.C.Log).Concat(failing.Log), l => Assert.Contains(l, reads));
    }

    [Fact]
    public async Task Records_and_a_whole_collection_deleted_on_the_PDS_are_marked_deleted_and_leave_search()
    {
        var network = fixture.Network;
        var pds = await network.AddPdsAsync();
        await using var proxy = await HttpFaultProxy.StartNewAsync(pds);
        var account = (await network.SeedAsync(network.PdsUrls.Count - 1, proxy.BaseAddress, new SeedAccount("gina-scan.test",
        [
            new("pub.chive.eprint.submission", ScanWorld.LexiconSubmission("Keep me", null)),
            new("pub.chive.eprint.submission", ScanWorld.LexiconSubmission("Delete me", null)),
            new("pub.chive.eprint.userTag", new JsonObject { ["eprintUri"] = "at://x", ["tag"] = "a", ["createdAt"] = "2026-03-01T00:00:00Z" }),
            new("pub.chive.eprint.userTag", new JsonObject { ["eprintUri"] = "at://x", ["tag"] = "b", ["createdAt"] = "2026-03-01T00:00:00Z" }),
        ])))[0];
        using var admin = fixture.CreateAdminClient();

        var first = await ScanAsync(admin, proxy);
        Assert.Equal(("completed", 4L), (first.Status(), first.Records()));
        Assert.Equal(2, (await fixture.SearchDocumentsAsync($"at://{account.Did}/")).Count);

        // Gina deletes one submission and both tags (the whole collection) with her own client.
        var deleted = account.Records.Skip(1).ToList();
        foreach (var record in deleted)
        {
            var parts = record.Uri["at://".Length..].Split('/');
            await ScanWorld.CallAsUserAsync(pds, account, "com.atproto.repo.deleteRecord",
                new JsonObject { ["repo"] = account.Did, ["collection"] = parts[1], ["rkey"] = parts[2] });
        }

        var second = await ScanAsync(admin, proxy);
        Assert.Equal("completed", second.Status());
        Assert.Equal("3", second.Meta("deletedRecords"));
        Assert.Equal(1, second.Records());
        Assert.Equal(deleted.Select(r => r.Uri).Order(StringComparer.Ordinal), await Db.DeletedRecordsAsync(account.Did));
        Assert.Equal([account.Records[0].Uri], (await Db.LiveRecordsAsync(account.Did)).Keys);
        Assert.Equal([account.Records[0].Uri], await Db.LiveEprintsAsync(account.Did));
        Assert.Equal([account.Records[0].Uri], (await fixture.SearchDocumentsAsync($"at://{account.Did}/")).Keys);

        // A listing that fails deletes nothing: the PDS answers 500 from now on.
        proxy.Always = new HttpFault.Status(500);
        var failed = await ScanAsync(admin, proxy);
        Assert.Equal("completed", failed.Status());
        Assert.Equal("1", failed.Meta("pdsesFailed"));
        Assert.Equal([account.Records[0].Uri], (await Db.LiveRecordsAsync(account.Did)).Keys);
    }

    [Fact]
    public async Task A_repo_listed_with_the_verified_commit_recorded_for_it_is_confirmed_unread_unless_the_trigger_forces()
    {
        var network = fixture.Network;
        var pds = await network.AddPdsAsync();
        await using var proxy = await HttpFaultProxy.StartNewAsync(pds);
        var tag = new JsonObject { ["eprintUri"] = "at://x", ["tag"] = "kept", ["createdAt"] = "2026-03-01T00:00:00Z" };
        var accounts = await network.SeedAsync(network.PdsUrls.Count - 1, proxy.BaseAddress,
            new SeedAccount("ulla-scan.test", [new("pub.chive.eprint.submission", ScanWorld.LexiconSubmission("Never changes", null)), new("pub.chive.eprint.userTag", tag)]),
            new SeedAccount("vera-scan.test", [new("pub.chive.eprint.submission", ScanWorld.LexiconSubmission("Gets a tag", null))]));
        var (ulla, vera) = (accounts[0], accounts[1]);
        using var admin = fixture.CreateAdminClient();
        var first = await ScanAsync(admin, proxy);
        Assert.Equal(("completed", 3L), (first.Status(), first.Records()));
        var (ullaSynced, veraSynced) = (await LastSyncedAsync(ulla.Did), await LastSyncedAsync(vera.Did));

        // Vera tags her eprint; Ulla's repo stays at the commit that was read and verified.
        await ScanWorld.CallAsUserAsync(pds, vera, "com.atproto.repo.createRecord",
            new JsonObject { ["repo"] = vera.Did, ["collection"] = "pub.chive.eprint.userTag", ["record"] = tag.DeepClone() });
        proxy.ResetCount();
        var second = await ScanAsync(admin, proxy);

        Assert.Equal("completed", second.Status());
        Assert.Equal(2, (await Db.LiveRecordsAsync(vera.Did)).Count);
        // Vera's repo was read: her unchanged submission is confirmed too (the tag written by the read is not written twice).
        Assert.True(await LastSyncedAsync(vera.Did) > veraSynced);
        if (fixture.Verified)
        {
            // Ulla: nothing asked of her repo; her two records confirmed (they count) and their last sync moved on.
            Assert.Equal(("1", 1, 1), (second.Meta("reposUnchanged"), proxy.CountOf("com.atproto.sync.getRepo"), proxy.CountOf("com.atproto.repo.describeRepo")));
            Assert.Equal(4L, second.Records());
            Assert.True(await LastSyncedAsync(ulla.Did) > ullaSynced);
            // The registry still counts Ulla's records among the PDS's Chive records.
            var row = (await fixture.Registry().GetAsync(proxy.BaseAddress))!;
            Assert.Equal(("active", 4), (row.Status, row.ChiveRecordCount));
        }
        else
        {
            Assert.Equal(("0", 0), (second.Meta("reposUnchanged"), proxy.CountOf("com.atproto.sync.getRepo")));
            Assert.Equal(2, proxy.CountOf("com.atproto.repo.describeRepo"));
        }

        // force: every repo read whole, none skipped.
        proxy.ResetCount();
        var started = await admin.PostAsync("triggerPDSScan", new JsonObject { ["pdsUrl"] = ScanWorld.Origin(proxy), ["force"] = true });
        var forced = await admin.WaitForEndAsync(started["operationId"]!.GetValue<string>());
        Assert.Equal(("completed", "0", 4L), (forced.Status(), forced.Meta("reposUnchanged"), forced.Records()));
        Assert.Equal(2, proxy.CountOf("com.atproto.repo.describeRepo"));
        Assert.Equal(fixture.Verified ? 2 : 0, proxy.CountOf("com.atproto.sync.getRepo"));
    }

    private async Task<DateTime> LastSyncedAsync(string did) =>
        await Db.ScalarAsync<DateTime>("SELECT min(last_synced_at) FROM indexed_records WHERE did = @d AND deleted_at IS NULL", ("d", did));

    [Fact]
    public async Task Cancel_mid_scan_stops_within_one_unit_and_gives_the_PDS_back()
    {
        var world = await ScanWorld.GetAsync(fixture);
        // PDS A itself, slowed (its accounts' DID documents name its proxy, so a scan must go through that one).
        var slow = world.A;
        slow.Always = new HttpFault.Slow(TimeSpan.FromMilliseconds(250));
        using var restore = new Restore(() => slow.Always = null);
        using var admin = fixture.CreateAdminClient();

        var asked = slow.Requests;
        var started = await admin.PostAsync("triggerPDSScan", new JsonObject { ["pdsUrl"] = ScanWorld.Origin(slow), ["force"] = true }); // read, not confirmed
        var id = started["operationId"]!.GetValue<string>();
        var again = await admin.PostAsync("triggerPDSScan", new JsonObject { ["pdsUrl"] = ScanWorld.Origin(slow) });
        Assert.Equal((id, true), (again["operationId"]!.GetValue<string>(), again["alreadyRunning"]!.GetValue<bool>()));
        // Mid-scan: the PDS has been asked its first question, and every repo needs at least two more, 250 ms each. (Not
        // "records indexed": those land with the last repo's batches, and the scan may end before a cancel gets there —
        // it did once a repo's revision stopped waiting for the ledger's poll.)
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (slow.Requests == asked)
        {
            Assert.True(DateTime.UtcNow < deadline, "the scan never reached the PDS");
            await Task.Delay(20);
        }

        var cancel = await admin.PostAsync("cancelBackfill", new JsonObject { ["id"] = id });
        Assert.True(cancel["success"]!.GetValue<bool>());
        await Task.Delay(1000); // the request in flight (≤ 250 ms + the PDS's time) ends; nothing follows it
        var requestsAfterCancel = slow.Requests;
        await Task.Delay(2000);
        Assert.Equal(requestsAfterCancel, slow.Requests);
        Assert.Equal("cancelled", (await admin.GetOperationAsync(id)).Status());

        var row = (await fixture.Registry().GetAsync(slow.BaseAddress))!;
        Assert.Null(row.LeaseOwner);
        Assert.NotEqual("scanning", row.Status);
    }

    [Theory]
    [InlineData(ResourceNames.ScanWorker, "Chive.ScanWorker")]
    [InlineData(ResourceNames.IndexWorker, "Chive.IndexWorker")]
    public async Task A_worker_killed_mid_scan_and_restarted_completes_with_the_exact_record_set(string resource, string process)
    {
        var world = await ScanWorld.GetAsync(fixture);
        var slow = world.A;
        slow.Always = new HttpFault.Slow(TimeSpan.FromMilliseconds(200));
        using var restore = new Restore(() => slow.Always = null);
        using var admin = fixture.CreateAdminClient();

        var scaledOut = fixture.Replicas.ContainsKey(process["Chive.".Length..]);
        // Among ScanWorker replicas the PDS is held still (4 s a request, within the 5 s timeout) from the start, so the
        // replica to kill is caught with its unit waiting on it: the repos of a unit are fetched at once, and a scan
        // waited on until its first records land can already be in its last, one-request unit.
        var holdUnit = scaledOut && resource == ResourceNames.ScanWorker;
        if (holdUnit)
        {
            slow.Always = new HttpFault.Slow(TimeSpan.FromSeconds(4));
        }

        var started = await admin.PostAsync("triggerPDSScan", new JsonObject { ["pdsUrl"] = ScanWorld.Origin(slow), ["force"] = true }); // read, not confirmed
        var id = started["operationId"]!.GetValue<string>();
        if (!holdUnit)
        {
            await admin.WaitForAsync(id, op => op.Records() > 0 && op.Status() == "running"); // mid-scan: some indexed, more to come
        }

        string? redelivered = null;
        JsonObject done;
        if (!scaledOut)
        {
            await ChiveAppFixture.KillAsync(process);
            await fixture.StartServiceAsync(resource);
            done = await admin.WaitForEndAsync(id);
        }
        else
        {
            try
            {
                if (resource == ResourceNames.ScanWorker)
                {
                    // The replica whose unit waits on the held PDS is the one that last started a unit, once that line
                    // has stopped changing (a unit that was ending has handed over, and the log shows its successor).
                    // Kill that one alone and let the PDS go: its unit must come back to another replica.
                    var (busy, unit) = await fixture.SettledLastLoggedAsync(resource, $"of operation {id} on");
                    redelivered = unit;
                    await ChiveAppFixture.KillProcessAsync(busy);
                    slow.Always = new HttpFault.Slow(TimeSpan.FromMilliseconds(200));
                }
                else
                {
                    // One of the IndexWorkers goes (whichever holds a batch, its batch returns to the queue).
                    using var one = System.Diagnostics.Process.GetProcessesByName(process).First();
                    await ChiveAppFixture.KillProcessAsync(one.Id);
                }

                done = await admin.WaitForEndAsync(id);
            }
            finally
            {
                await fixture.RestartKilledReplicaAsync(resource); // the next test has every replica again, whatever happened
            }
        }

        Assert.Equal("completed", done.Status());
        if (redelivered is not null)
        {
            Assert.True(fixture.ProcessesThatLogged(resource, redelivered).Count >= 2, $"'{redelivered}' was not taken again by another replica");
        }

        var expected = world.ExpectedRecords.Where(r => r.Key.Contains(world.Alice.Did, StringComparison.Ordinal) || r.Key.Contains(world.Bob.Did, StringComparison.Ordinal)).ToList();
        Assert.Equal(expected.Count, done.Records());
        Assert.Equal(expected.OrderBy(p => p.Key), (await Db.LiveRecordsAsync(world.Alice.Did, world.Bob.Did)).OrderBy(p => p.Key));
        Assert.Equal(
            await Db.ScalarAsync<long>("SELECT count(DISTINCT batch_id) FROM operation_batches WHERE operation_id = @id", ("id", Guid.Parse(id))),
            await Db.ScalarAsync<long>("SELECT count(*) FROM operation_batches WHERE operation_id = @id", ("id", Guid.Parse(id))));
    }

    [Fact]
    public async Task A_start_delivered_again_starts_nothing_twice_and_the_scan_is_exact()
    {
        var world = await ScanWorld.GetAsync(fixture);
        world.A.Always = new HttpFault.Slow(TimeSpan.FromMilliseconds(100));
        using var restore = new Restore(() => world.A.Always = null);
        using var admin = fixture.CreateAdminClient();
        var requestsBefore = world.A.CountOf("com.atproto.sync.listRepos");

        var started = await admin.PostAsync("triggerPDSScan", new JsonObject { ["pdsUrl"] = ScanWorld.Origin(world.A), ["force"] = true });
        var id = Guid.Parse(started["operationId"]!.GetValue<string>());
        await fixture.PublishAsync(new Chive.Contracts.PdsScan.StartPdsScan(id, ScanWorld.Origin(world.A), Force: true));
        await fixture.PublishAsync(new Chive.Contracts.PdsScan.StartPdsScan(id, ScanWorld.Origin(world.A), Force: true));
        var done = await admin.WaitForEndAsync(id.ToString("D"));

        Assert.Equal("completed", done.Status());
        var expected = world.ExpectedRecords.Where(r => r.Key.Contains(world.Alice.Did, StringComparison.Ordinal) || r.Key.Contains(world.Bob.Did, StringComparison.Ordinal)).ToList();
        Assert.Equal(expected.Count, done.Records());
        Assert.Equal("1", done.Meta("pdsesScanned"));
        // One lane, read once: two listRepos pages of two repos and the empty page after them.
        Assert.Equal(2, world.A.CountOf("com.atproto.sync.listRepos") - requestsBefore);
    }

    [Fact]
    public async Task A_pdsUrl_that_is_not_an_origin_is_refused_with_400()
    {
        using var admin = fixture.CreateAdminClient();
        await AdminCalls.AssertErrorAsync(
            await admin.PostAsJsonAsync("/xrpc/pub.chive.admin.triggerPDSScan", new { pdsUrl = "ftp://pds.example" }), HttpStatusCode.BadRequest, "InvalidRequest");
        await AdminCalls.AssertErrorAsync(
            await admin.PostAsJsonAsync("/xrpc/pub.chive.admin.triggerPDSScan", new { pdsUrl = "https://pds.example/xrpc" }), HttpStatusCode.BadRequest, "InvalidRequest");
    }

    private static async Task<JsonObject> ScanAsync(HttpClient admin, HttpFaultProxy pds)
    {
        var started = await admin.PostAsync("triggerPDSScan", new JsonObject { ["pdsUrl"] = ScanWorld.Origin(pds) });
        Assert.False(started["alreadyRunning"]!.GetValue<bool>());
        return await admin.WaitForEndAsync(started["operationId"]!.GetValue<string>());
    }
}

/// <summary>The PDS-scan suite with repos read as signed CARs (the default).</summary>
[Collection(ChiveAppCollection.Name)]
public sealed class PdsScanTests(ChiveAppFixture fixture) : PdsScanSuite(fixture);

/// <summary>The PDS-scan suite on three ScanWorker and two IndexWorker replicas (verified sync): the same exact results.</summary>
[Collection(ReplicaAppCollection.Name)]
public sealed class PdsScanReplicaTests(ReplicaAppFixture replicas) : PdsScanSuite(replicas.App);

/// <summary>The PDS-scan suite with repos read by <c>listRecords</c>.</summary>
[Collection(ListingAppCollection.Name)]
public sealed class PdsScanListingTests(ListingAppFixture listing) : PdsScanSuite(listing.App);
