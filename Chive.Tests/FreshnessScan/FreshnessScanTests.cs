using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Chive.AtProto.Net;
using Chive.ServiceDefaults;
using Chive.Testing.Doubles;
using Chive.Tests.Infrastructure;
using Chive.Tests.PdsScan;

namespace Chive.Tests.FreshnessScan;

/// <summary>
/// Freshness scan end to end against real PDSes (each behind a request-logging proxy): a PDS scan first, then changes
/// made on the PDS by the accounts' own clients (or its admin), the records made stale by moving their timestamps back,
/// and a freshness scan — which must apply every change, notice every deletion, and cost an untouched repo at most one
/// request and no write.
/// </summary>
[Collection(ChiveAppCollection.Name)]
public sealed class FreshnessScanTests(ChiveAppFixture fixture)
{
    private ScanDatabase Db => new(fixture.DatabaseConnectionString);

    [Fact]
    public async Task Changes_on_the_PDS_are_applied_and_an_untouched_repo_costs_at_most_one_request_and_no_write()
    {
        var (pds, proxy, accounts) = await PdsAsync(
            new SeedAccount("hana-fresh.test",
            [
                new("pub.chive.eprint.submission", ScanWorld.LexiconSubmission("Original title", null)),
                new("pub.chive.eprint.submission", ScanWorld.LexiconSubmission("Withdrawn later", null)),
                new("pub.chive.eprint.userTag", Tag("a")),
                new("pub.chive.eprint.userTag", Tag("b")),
                new("pub.chive.review.comment", Comment()),
            ]),
            new SeedAccount("ivan-fresh.test", [new("pub.chive.eprint.submission", ScanWorld.LexiconSubmission("Ivan's, untouched", null))]),
            new SeedAccount("jo-fresh.test", [new("pub.chive.actor.profile", new JsonObject { ["displayName"] = "Jo", ["createdAt"] = "2026-03-01T00:00:00Z" }, "self")]));
        await using var _ = proxy;
        var (hana, ivan, jo) = (accounts[0], accounts[1], accounts[2]);
        using var admin = fixture.CreateAdminClient();
        Assert.Equal(("completed", 7L), await ScanAsync(admin, proxy));

        var ivanEprint = ivan.Records[0].Uri;
        var before = new
        {
            IvanUpdated = await UpdatedAtAsync(ivanEprint),
            JoUpdated = await UpdatedAtAsync(jo.Records[0].Uri),
            IvanVersion = (await fixture.SearchVersionsAsync(ivanEprint))[ivanEprint],
            HanaRev = await RevAsync(hana.Did),
        };

        // Hana, with her own client: a new title and abstract, a new submission, one submission and every tag deleted.
        var changed = hana.Records[0].Uri;
        await PutAsync(pds, hana, changed, ScanWorld.LexiconSubmission("Revised title", null));
        var added = await CreateAsync(pds, hana, "pub.chive.eprint.submission", ScanWorld.LexiconSubmission("Brand new", null));
        var deleted = new[] { hana.Records[1].Uri, hana.Records[2].Uri, hana.Records[3].Uri };
        foreach (var uri in deleted)
        {
            await DeleteAsync(pds, hana, uri);
        }

        await OnlyStaleAsync(hana.Did, ivan.Did, jo.Did);
        proxy.ResetCount();
        var done = await FreshnessAsync(admin);

        Assert.Equal("completed", done.Status());
        Assert.Equal(
            ("3", "3", "2", "1", "1", "3", "0", "0"),
            (done.Meta("reposStale"), done.Meta("reposChecked"), done.Meta("reposUnchanged"), done.Meta("recordsUpdated"),
             done.Meta("recordsAdded"), done.Meta("recordsDeleted"), done.Meta("reposUnreachable"), done.Meta("reposMoved")));

        // The change itself is applied: the new title and abstract, in the eprint row and in the search document.
        Assert.Equal("Revised title", await Db.ScalarAsync<string>("SELECT title FROM eprints_index WHERE uri = @u", ("u", changed)));
        var documents = await fixture.SearchDocumentsAsync($"at://{hana.Did}/");
        Assert.Equal("Revised title", documents[changed]["title"]!.GetValue<string>());
        Assert.Equal("Abstract of Revised title.", documents[changed]["abstract"]!.GetValue<string>());
        Assert.Equal("Brand new", documents[added]["title"]!.GetValue<string>());
        Assert.Equal(new[] { added, changed }.Order(StringComparer.Ordinal), documents.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(deleted.Order(StringComparer.Ordinal), await Db.DeletedRecordsAsync(hana.Did));
        Assert.Equal(3L, await Db.ScalarAsync<long>(
            "SELECT count(*) FROM indexed_records WHERE uri = ANY(@u) AND deletion_source = 'pds_404'", ("u", deleted)));
        Assert.Equal(new[] { added, changed, hana.Records[4].Uri }.Order(StringComparer.Ordinal), (await Db.LiveRecordsAsync(hana.Did)).Keys.Order(StringComparer.Ordinal));
        Assert.NotEqual(before.HanaRev, await RevAsync(hana.Did));

        // The PDS listed its three repos in one listRepos page (cheaper than three getLatestCommit): Ivan and Jo cost
        // nothing beyond it, nothing of theirs was fetched, and nothing of theirs was written but the confirmation.
        Assert.Equal(1, proxy.CountOf("com.atproto.sync.listRepos"));
        Assert.Equal(0, proxy.CountOf("com.atproto.sync.getLatestCommit"));
        Assert.DoesNotContain(proxy.LogWithQuery, l => Mentions(l, ivan.Did) || Mentions(l, jo.Did));
        Assert.Equal(["GET /xrpc/com.atproto.sync.listRepos?limit=1000"], proxy.LogWithQuery.Where(l => !Mentions(l, hana.Did)));
        Assert.Equal(before.IvanUpdated, await UpdatedAtAsync(ivanEprint));
        Assert.Equal(before.JoUpdated, await UpdatedAtAsync(jo.Records[0].Uri));
        Assert.Equal(before.IvanVersion, (await fixture.SearchVersionsAsync(ivanEprint))[ivanEprint]);
        Assert.Equal(0L, await StaleCountAsync(hana.Did, ivan.Did, jo.Did)); // every record confirmed
        Assert.Equal(0L, await Db.ScalarAsync<long>("SELECT count(*) FROM freshness_repos"));
    }

    [Fact]
    public async Task Each_tier_takes_exactly_its_window_and_no_tier_takes_them_all()
    {
        string[] names = ["urgent", "recent", "normal", "background", "idle"];
        var (_, proxy, accounts) = await PdsAsync(names.Select(n => new SeedAccount($"{n}-tier.test",
            [new("pub.chive.actor.profile", new JsonObject { ["displayName"] = n, ["createdAt"] = "2026-03-01T00:00:00Z" }, "self")])).ToArray());
        await using var _ = proxy;
        using var admin = fixture.CreateAdminClient();
        await ScanAsync(admin, proxy);
        var dids = accounts.Select(a => a.Did).ToArray();

        // First indexed / last confirmed, in hours ago: urgent = new and unchecked for 6 h; the others are older than a
        // day and unchecked for 6–24 h, 1–7 days, more than 7 days; idle was checked an hour ago.
        (int Indexed, int Synced)[] ages = [(12, 7), (72, 12), (240, 72), (720, 200), (720, 1)];
        async Task AgeAsync()
        {
            await OnlyStaleAsync();
            for (var i = 0; i < dids.Length; i++)
            {
                await Db.ExecuteAsync(
                    "UPDATE indexed_records SET indexed_at = now() - make_interval(hours => @i), last_synced_at = now() - make_interval(hours => @s) WHERE did = @did",
                    ("i", ages[i].Indexed), ("s", ages[i].Synced), ("did", dids[i]));
            }
        }

        await AgeAsync();
        for (var i = 0; i < 4; i++)
        {
            proxy.ResetCount();
            var done = await FreshnessAsync(admin, names[i], throughTriggerBackfill: i == 2);
            Assert.Equal(("completed", "1", "1", names[i]), (done.Status(), done.Meta("reposStale"), done.Meta("reposUnchanged"), done.Meta("tier")));
            Assert.Equal(0L, await StaleCountAsync(dids[i]));
            // One repo on a PDS of five: one getLatestCommit is cheaper than a listing, and all it costs.
            Assert.Equal(["GET /xrpc/com.atproto.sync.getLatestCommit"], proxy.Log);
            Assert.True(Mentions(proxy.LogWithQuery.Single(), dids[i]));
        }

        Assert.Equal(1L, await StaleCountAsync(dids[4])); // idle: in no tier, still as it was

        await AgeAsync();
        var due = await FreshnessAsync(admin);
        Assert.Equal(("completed", "4", "4"), (due.Status(), due.Meta("reposStale"), due.Meta("reposUnchanged")));
        Assert.Equal(1L, await StaleCountAsync(dids));
        Assert.Equal(1L, await StaleCountAsync(dids[4]));
    }

    [Fact]
    public async Task A_deactivated_account_is_kept_and_a_taken_down_or_deleted_one_is_removed()
    {
        var (pds, proxy, accounts) = await PdsAsync(
            new SeedAccount("kim-fresh.test", [new("pub.chive.eprint.submission", ScanWorld.LexiconSubmission("Kim's, deactivated", null))]),
            new SeedAccount("lou-fresh.test", [new("pub.chive.eprint.submission", ScanWorld.LexiconSubmission("Lou's, taken down", null))]),
            new SeedAccount("max-fresh.test", [new("pub.chive.eprint.submission", ScanWorld.LexiconSubmission("Max's, deleted", null))]));
        await using var _ = proxy;
        var (kim, lou, max) = (accounts[0], accounts[1], accounts[2]);
        using var admin = fixture.CreateAdminClient();
        Assert.Equal(("completed", 3L), await ScanAsync(admin, proxy));

        await ScanWorld.CallAsUserAsync(pds, kim, "com.atproto.server.deactivateAccount", new JsonObject());
        await AsPdsAdminAsync(pds, "com.atproto.admin.updateSubjectStatus", new JsonObject
        {
            ["subject"] = new JsonObject { ["$type"] = "com.atproto.admin.defs#repoRef", ["did"] = lou.Did },
            ["takedown"] = new JsonObject { ["applied"] = true, ["ref"] = "freshness-test" },
        });
        await AsPdsAdminAsync(pds, "com.atproto.admin.deleteAccount", new JsonObject { ["did"] = max.Did });
        await OnlyStaleAsync(kim.Did, lou.Did, max.Did);

        var done = await FreshnessAsync(admin);

        Assert.Equal(
            ("completed", "3", "1", "2", "2", "0"),
            (done.Status(), done.Meta("reposChecked"), done.Meta("reposDeactivated"), done.Meta("reposGone"), done.Meta("recordsDeleted"), done.Meta("reposUnchanged")));
        Assert.Equal([kim.Records[0].Uri], (await Db.LiveRecordsAsync(kim.Did, lou.Did, max.Did)).Keys);
        Assert.Equal("takedown", await Db.ScalarAsync<string>("SELECT deletion_source FROM eprints_index WHERE uri = @u", ("u", lou.Records[0].Uri)));
        Assert.Equal("account_deleted", await Db.ScalarAsync<string>("SELECT deletion_source FROM indexed_records WHERE uri = @u", ("u", max.Records[0].Uri)));
        Assert.Single(await fixture.SearchDocumentsAsync($"at://{kim.Did}/"));
        Assert.Empty(await fixture.SearchDocumentsAsync($"at://{lou.Did}/"));
        Assert.Empty(await fixture.SearchDocumentsAsync($"at://{max.Did}/"));
        Assert.Equal(1L, await StaleCountAsync(kim.Did)); // kept as it was, and asked again next time
    }

    [Fact]
    public async Task A_PDS_that_refuses_connections_changes_nothing_and_is_counted()
    {
        var (_, proxy, accounts) = await PdsAsync(new SeedAccount("nora-fresh.test",
        [
            new("pub.chive.eprint.submission", ScanWorld.LexiconSubmission("Nora's", null)),
            new("pub.chive.review.comment", Comment()),
        ]));
        var nora = accounts[0];
        using var admin = fixture.CreateAdminClient();
        Assert.Equal(("completed", 2L), await ScanAsync(admin, proxy));
        await proxy.DisposeAsync(); // the PDS her DID document names now refuses every connection
        await OnlyStaleAsync(nora.Did);

        var done = await FreshnessAsync(admin);

        Assert.Equal(("completed", "1", "1", "0", "0"), (done.Status(), done.Meta("reposChecked"), done.Meta("reposUnreachable"), done.Meta("recordsDeleted"), done.Meta("reposGone")));
        Assert.Equal(2, (await Db.LiveRecordsAsync(nora.Did)).Count);
        Assert.Single(await fixture.SearchDocumentsAsync($"at://{nora.Did}/"));
        Assert.Equal(1L, await StaleCountAsync(nora.Did)); // not confirmed: asked again next time
    }

    [Fact]
    public async Task A_repo_whose_DID_document_moves_it_to_another_PDS_is_read_from_there()
    {
        await using var oldHost = await DidWebHost.StartNewAsync();
        oldHost.Document = oldHost.DocumentNaming();
        oldHost.Records["pub.chive.eprint.submission"] = new() { ["3kmoveaaaaaa2"] = ScanWorld.LexiconSubmission("Before the move", null) };
        oldHost.Records["pub.chive.review.comment"] = new() { ["3kmoveaaaaaa3"] = Comment() };
        using var admin = fixture.CreateAdminClient();
        var synced = await admin.DidSyncAsync(oldHost.Did);
        Assert.Equal(("completed", 2L), (synced.Status(), synced.Records()));
        var did = oldHost.Did;

        // The account moves: the new host serves its repo (one title changed, one record more); its DID document names
        // the new host; the old one no longer has it.
        await using var newHost = await DidWebHost.StartNewAsync();
        newHost.Hosts = did;
        newHost.Signer = oldHost.Signer; // the account's key moves with it (its DID document still names it)
        newHost.Records["pub.chive.eprint.submission"] = new()
        {
            ["3kmoveaaaaaa2"] = ScanWorld.LexiconSubmission("After the move", null),
            ["3kmoveaaaaaa4"] = ScanWorld.LexiconSubmission("Written on the new PDS", null),
        };
        newHost.Records["pub.chive.review.comment"] = new() { ["3kmoveaaaaaa3"] = Comment() };
        oldHost.Document = oldHost.DocumentNaming(newHost.BaseAddress.ToString().TrimEnd('/'));
        oldHost.Hosts = "did:web:gone.invalid";
        await OnlyStaleAsync(did);

        var done = await FreshnessAsync(admin);

        Assert.Equal(
            ("completed", "1", "1", "1", "0", "0"),
            (done.Status(), done.Meta("reposMoved"), done.Meta("recordsUpdated"), done.Meta("recordsAdded"), done.Meta("recordsDeleted"), done.Meta("reposGone")));
        var newOrigin = ServiceOrigin.Normalize(newHost.BaseAddress);
        Assert.Equal(3L, await Db.ScalarAsync<long>("SELECT count(*) FROM indexed_records WHERE did = @d AND deleted_at IS NULL AND pds_url = @p", ("d", did), ("p", newOrigin)));
        Assert.Equal(newOrigin, await Db.ScalarAsync<string>("SELECT pds_url FROM repo_sync_state WHERE did = @d", ("d", did)));
        Assert.Equal(
            ["After the move", "Written on the new PDS"],
            (await fixture.SearchDocumentsAsync($"at://{did}/")).Values.Select(d => d["title"]!.GetValue<string>()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Cancel_mid_scan_stops_within_one_unit_and_one_scan_runs_per_tier()
    {
        var (_, proxy, accounts) = await PdsAsync(Enumerable.Range(0, 6).Select(i => new SeedAccount($"cancel{i}-fresh.test",
            [new("pub.chive.eprint.submission", ScanWorld.LexiconSubmission($"Cancel {i}", null))])).ToArray());
        await using var _ = proxy;
        using var admin = fixture.CreateAdminClient();
        await ScanAsync(admin, proxy);
        // Its size unknown, the PDS is asked repo by repo (one getLatestCommit each), slowly.
        await Db.ExecuteAsync("UPDATE pds_registry SET repo_count = NULL WHERE pds_url = @p", ("p", ScanWorld.Origin(proxy)));
        await OnlyStaleAsync(accounts.Select(a => a.Did).ToArray());
        proxy.Always = new HttpFault.Slow(TimeSpan.FromMilliseconds(1000));
        proxy.ResetCount();

        var started = await admin.PostAsync("triggerFreshnessScan", new JsonObject());
        var id = started["operationId"]!.GetValue<string>();
        var again = await admin.PostAsync("triggerFreshnessScan", new JsonObject());
        Assert.Equal((id, true), (again["operationId"]!.GetValue<string>(), again["alreadyRunning"]!.GetValue<bool>()));
        var other = await admin.PostAsync("triggerFreshnessScan", new JsonObject { ["tier"] = "urgent" });
        Assert.NotEqual(id, other["operationId"]!.GetValue<string>()); // another tier is another scan

        await admin.WaitForAsync(id, op => long.Parse(op.Meta("reposChecked") ?? "0", System.Globalization.CultureInfo.InvariantCulture) > 0);
        var cancel = await admin.PostAsync("cancelBackfill", new JsonObject { ["id"] = id });
        Assert.True(cancel["success"]!.GetValue<bool>(), $"{cancel.ToJsonString()} {(await admin.GetOperationAsync(id)).ToJsonString()}");
        await Task.Delay(2000); // the request in flight (1 s and the PDS's time) ends; nothing follows it
        var requests = proxy.Requests;
        await Task.Delay(2500);

        Assert.Equal(requests, proxy.Requests);
        Assert.Equal("cancelled", (await admin.GetOperationAsync(id)).Status());
        Assert.Equal("completed", (await admin.WaitForEndAsync(other["operationId"]!.GetValue<string>())).Status());
        Assert.InRange(requests, 1, 5); // one getLatestCommit per repo, six repos: it stopped before the end
        Assert.InRange(await StaleCountAsync(accounts.Select(a => a.Did).ToArray()), 1, 4);
    }

    [Theory]
    [InlineData(ResourceNames.ScanWorker, "Chive.ScanWorker")]
    [InlineData(ResourceNames.IndexWorker, "Chive.IndexWorker")]
    public async Task A_worker_killed_mid_scan_and_restarted_ends_with_the_exact_result(string resource, string process)
    {
        var (pds, proxy, accounts) = await PdsAsync(Enumerable.Range(0, 6).Select(i => new SeedAccount($"kill{i}-{process[6..11].ToLowerInvariant()}-fresh.test",
        [
            new("pub.chive.eprint.submission", ScanWorld.LexiconSubmission($"Kill {i}", null)),
            new("pub.chive.eprint.submission", ScanWorld.LexiconSubmission($"Kept {i}", null)),
        ])).ToArray());
        await using var _ = proxy;
        using var admin = fixture.CreateAdminClient();
        Assert.Equal(("completed", 12L), await ScanAsync(admin, proxy));
        foreach (var account in accounts)
        {
            await PutAsync(pds, account, account.Records[0].Uri, ScanWorld.LexiconSubmission($"Revised by {account.Handle}", null));
        }

        var dids = accounts.Select(a => a.Did).ToArray();
        await OnlyStaleAsync(dids);
        proxy.Always = new HttpFault.Slow(TimeSpan.FromMilliseconds(250));

        var id = (await admin.PostAsync("triggerFreshnessScan", new JsonObject()))["operationId"]!.GetValue<string>();
        await admin.WaitForAsync(id, op => op.Status() == "running" && op.Meta("reposChecked") is { } n && n != "0");
        await ChiveAppFixture.KillAsync(process);
        await fixture.StartServiceAsync(resource);
        var done = await admin.WaitForEndAsync(id);

        Assert.Equal(
            ("completed", "6", "6", "0", "0", "0"),
            (done.Status(), done.Meta("reposChecked"), done.Meta("recordsUpdated"), done.Meta("recordsAdded"), done.Meta("recordsDeleted"), done.Meta("reposUnchanged")));
        foreach (var account in accounts)
        {
            Assert.Equal($"Revised by {account.Handle}", await Db.ScalarAsync<string>("SELECT title FROM eprints_index WHERE uri = @u", ("u", account.Records[0].Uri)));
        }

        Assert.Equal(12, (await Db.LiveRecordsAsync(dids)).Count);
        Assert.Equal(0L, await StaleCountAsync(dids));
        Assert.Equal(
            await Db.ScalarAsync<long>("SELECT count(DISTINCT batch_id) FROM operation_batches WHERE operation_id = @id", ("id", Guid.Parse(id))),
            await Db.ScalarAsync<long>("SELECT count(*) FROM operation_batches WHERE operation_id = @id", ("id", Guid.Parse(id))));
    }

    [Fact]
    public async Task Repos_read_again_are_fetched_ahead_and_one_whose_repo_does_not_verify_changes_nothing()
    {
        var (pds, proxy, accounts) = await PdsAsync(Enumerable.Range(0, 5).Select(i => new SeedAccount($"ahead{i}-fresh.test",
            [new("pub.chive.eprint.submission", ScanWorld.LexiconSubmission($"Ahead {i}", null))])).ToArray());
        await using var _ = proxy;
        using var admin = fixture.CreateAdminClient();
        Assert.Equal(("completed", 5L), await ScanAsync(admin, proxy));
        foreach (var account in accounts)
        {
            await PutAsync(pds, account, account.Records[0].Uri, ScanWorld.LexiconSubmission($"Revised by {account.Handle}", null));
        }

        var dids = accounts.Select(a => a.Did).ToArray();
        await OnlyStaleAsync(dids);
        // Every repo changed, so each unit fetches its repos ahead of applying them (verified mode); one repo's CAR arrives
        // altered (a byte flipped in the middle): its read fails verification while its neighbours' reads are in flight.
        var forged = accounts.OrderBy(a => a.Did, StringComparer.Ordinal).ElementAt(2);
        proxy.Rewrite = (path, body) =>
        {
            if (!path.Contains("com.atproto.sync.getRepo", StringComparison.Ordinal) || !Mentions(path, forged.Did))
            {
                return body;
            }

            var altered = body.ToArray();
            altered[altered.Length / 2] ^= 0xFF;
            return altered;
        };
        proxy.Always = new HttpFault.Slow(TimeSpan.FromMilliseconds(100));
        proxy.ResetCount();
        var done = await FreshnessAsync(admin);
        proxy.Rewrite = null;
        proxy.Always = null;

        Assert.Equal(
            ("completed", "5", "4", "1", "0", "0"),
            (done.Status(), done.Meta("reposChecked"), done.Meta("recordsUpdated"), done.Meta("reposUnverified"), done.Meta("recordsDeleted"), done.Meta("reposUnchanged")));
        for (var i = 0; i < accounts.Count; i++)
        {
            var title = await Db.ScalarAsync<string>("SELECT title FROM eprints_index WHERE uri = @u", ("u", accounts[i].Records[0].Uri));
            Assert.Equal(accounts[i] == forged ? $"Ahead {i}" : $"Revised by {accounts[i].Handle}", title);
        }

        // Each repo read once (describeRepo, getRepo), nothing of the altered one indexed or swept, and it is stale still.
        // Read ahead: some request reached the PDS before the one sent just before it was answered (each answer takes
        // the proxy's 100 ms) — one repo at a time, no two requests ever arrive closer together than that.
        Assert.Equal((5, 5), (proxy.CountOf("com.atproto.repo.describeRepo"), proxy.CountOf("com.atproto.sync.getRepo")));
        Assert.True(proxy.MostArrivalsWithin(TimeSpan.FromMilliseconds(90)) >= 2, "no request was sent while another was being answered");
        Assert.Equal(5, (await Db.LiveRecordsAsync(dids)).Count);
        Assert.Equal(1L, await StaleCountAsync(dids));
    }

    /// <summary>A call to the reference PDS's admin API (dev-env's admin password), as its operator would make it.</summary>
    private static async Task AsPdsAdminAsync(Uri pds, string nsid, JsonObject body)
    {
        using var client = new HttpClient { BaseAddress = pds };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.ASCII.GetBytes("admin:admin-pass")));
        using var response = await client.PostAsJsonAsync($"/xrpc/{nsid}", body);
        Assert.True(response.IsSuccessStatusCode, $"{nsid}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private static bool Mentions(string line, string did) => Uri.UnescapeDataString(line).Contains(did, StringComparison.Ordinal);

    private async Task<(Uri Pds, HttpFaultProxy Proxy, IReadOnlyList<SeededAccount> Accounts)> PdsAsync(params SeedAccount[] accounts)
    {
        var network = fixture.Network;
        var pds = await network.AddPdsAsync();
        var proxy = await HttpFaultProxy.StartNewAsync(pds);
        return (pds, proxy, await network.SeedAsync(network.PdsUrls.Count - 1, proxy.BaseAddress, accounts));
    }

    private static async Task<(string, long)> ScanAsync(HttpClient admin, HttpFaultProxy proxy)
    {
        var started = await admin.PostAsync("triggerPDSScan", new JsonObject { ["pdsUrl"] = ScanWorld.Origin(proxy) });
        var done = await admin.WaitForEndAsync(started["operationId"]!.GetValue<string>());
        return (done.Status(), done.Records());
    }

    /// <summary>Triggers a freshness scan (through its own method, or through <c>triggerBackfill</c>) and waits for its end.</summary>
    private static async Task<JsonObject> FreshnessAsync(HttpClient admin, string? tier = null, bool throughTriggerBackfill = false)
    {
        var input = tier is null ? new JsonObject() : new JsonObject { ["tier"] = tier };
        if (throughTriggerBackfill)
        {
            input["type"] = "freshnessScan";
        }

        var started = await admin.PostAsync(throughTriggerBackfill ? "triggerBackfill" : "triggerFreshnessScan", input);
        Assert.False(started["alreadyRunning"]!.GetValue<bool>());
        var id = throughTriggerBackfill ? started["operation"]!["id"]!.GetValue<string>() : started["operationId"]!.GetValue<string>();
        return await admin.WaitForEndAsync(id);
    }

    /// <summary>
    /// Every live record of the test database confirmed just now, then those of <paramref name="dids"/> made stale in
    /// every timed tier (first indexed three days ago, last confirmed two days ago): a scan of "due" takes exactly them.
    /// </summary>
    private async Task OnlyStaleAsync(params string[] dids)
    {
        await Db.ExecuteAsync("UPDATE indexed_records SET last_synced_at = now() WHERE deleted_at IS NULL AND last_synced_at < now() - interval '1 hour'");
        await Db.ExecuteAsync("""
            UPDATE indexed_records SET indexed_at = least(indexed_at, now() - interval '3 days'), last_synced_at = now() - interval '2 days'
            WHERE did = ANY(@dids)
            """, ("dids", dids));
    }

    /// <summary>Live records of <paramref name="dids"/> not confirmed in the last hour.</summary>
    private Task<long> StaleCountAsync(params string[] dids) => Db.ScalarAsync<long>(
        "SELECT count(DISTINCT did) FROM indexed_records WHERE did = ANY(@dids) AND deleted_at IS NULL AND last_synced_at < now() - interval '1 hour'", ("dids", dids));

    private Task<DateTime> UpdatedAtAsync(string uri) => Db.ScalarAsync<DateTime>("SELECT updated_at FROM indexed_records WHERE uri = @u", ("u", uri));

    private async Task<string?> RevAsync(string did)
    {
        var rev = await Db.ScalarAsync<object>("SELECT coalesce((SELECT rev FROM repo_sync_state WHERE did = @d), '')", ("d", did));
        return rev as string is { Length: > 0 } value ? value : null;
    }

    private static async Task PutAsync(Uri pds, SeededAccount account, string uri, JsonObject record)
    {
        var (collection, rkey) = Parts(uri);
        await ScanWorld.CallAsUserAsync(pds, account, "com.atproto.repo.putRecord",
            new JsonObject { ["repo"] = account.Did, ["collection"] = collection, ["rkey"] = rkey, ["record"] = record, ["validate"] = false });
    }

    private static async Task<string> CreateAsync(Uri pds, SeededAccount account, string collection, JsonObject record)
    {
        using var client = new HttpClient { BaseAddress = pds };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", account.AccessJwt);
        using var response = await client.PostAsJsonAsync("/xrpc/com.atproto.repo.createRecord",
            new JsonObject { ["repo"] = account.Did, ["collection"] = collection, ["record"] = record, ["validate"] = false });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonNode.Parse(body)!["uri"]!.GetValue<string>();
    }

    private static Task DeleteAsync(Uri pds, SeededAccount account, string uri)
    {
        var (collection, rkey) = Parts(uri);
        return ScanWorld.CallAsUserAsync(pds, account, "com.atproto.repo.deleteRecord",
            new JsonObject { ["repo"] = account.Did, ["collection"] = collection, ["rkey"] = rkey });
    }

    private static (string Collection, string Rkey) Parts(string uri)
    {
        var parts = uri["at://".Length..].Split('/');
        return (parts[1], parts[2]);
    }

    private static JsonObject Tag(string tag) => new() { ["eprintUri"] = "at://x", ["tag"] = tag, ["createdAt"] = "2026-03-01T00:00:00Z" };

    private static JsonObject Comment() => new()
    {
        ["eprintUri"] = "at://x",
        ["body"] = new JsonArray(new JsonObject { ["type"] = "text", ["content"] = "Fine." }),
        ["createdAt"] = "2026-03-01T00:00:00Z",
    };
}
