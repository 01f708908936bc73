using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Chive.Testing.Doubles;
using Chive.Tests.Infrastructure;

namespace Chive.Tests.PdsScan;

/// <summary>DID sync end to end: resolve (did:plc on the real PLC, did:web on a local host), register, index one repo.</summary>
public abstract class DidSyncSuite(ChiveAppFixture fixture)
{
    private ScanDatabase Db => new(fixture.DatabaseConnectionString);

    [Fact]
    public async Task A_did_plc_on_PDS_B_indexes_exactly_that_accounts_records_and_registers_its_PDS()
    {
        var world = await ScanWorld.GetAsync(fixture);
        using var admin = fixture.CreateAdminClient();

        var done = await admin.DidSyncAsync(world.Carol.Did);

        Assert.Equal("completed", done.Status());
        Assert.Equal(world.Carol.Did, done.Meta("did"));
        var expected = world.ExpectedRecords.Where(r => r.Key.Contains(world.Carol.Did, StringComparison.Ordinal)).OrderBy(p => p.Key).ToList();
        Assert.Equal(3, expected.Count);
        Assert.Equal(expected.Count, done.Records());
        Assert.Equal("1", done.Meta("invalidRecords"));
        Assert.Equal(expected, (await Db.LiveRecordsAsync(world.Carol.Did)).OrderBy(p => p.Key));
        Assert.Equal(2, (await fixture.SearchDocumentsAsync($"at://{world.Carol.Did}/")).Count);

        // The PDS her DID document names (B, read through its proxy) is registered (the scans knew it already).
        Assert.NotNull(await fixture.Registry().GetAsync(world.B.BaseAddress));
    }

    [Fact]
    public async Task A_start_delivered_again_syncs_once_and_exactly()
    {
        var world = await ScanWorld.GetAsync(fixture);
        using var admin = fixture.CreateAdminClient();
        var listings = world.B.CountOf(fixture.RepoReadMethod);
        await admin.DidSyncAsync(world.Carol.Did);
        var once = world.B.CountOf(fixture.RepoReadMethod) - listings;
        Assert.True(once > 0);
        listings += once;

        var started = await admin.PostAsync("triggerDIDSync", new JsonObject { ["did"] = world.Carol.Did });
        var id = Guid.Parse(started["operationId"]!.GetValue<string>());
        await fixture.PublishAsync(new Chive.Contracts.PdsScan.StartDidSync(id, world.Carol.Did));
        var done = await admin.WaitForEndAsync(id.ToString("D"));
        await Task.Delay(1000); // time for a duplicate lane, were there one, to list again

        Assert.Equal("completed", done.Status());
        Assert.Equal(3, done.Records());
        Assert.Equal(once, world.B.CountOf(fixture.RepoReadMethod) - listings); // read as often as by a single sync
    }

    [Fact]
    public async Task A_did_web_served_by_a_local_host_works_and_one_sync_per_DID_runs_at_a_time()
    {
        await using var host = await DidWebHost.StartNewAsync();
        host.Document = host.DocumentNaming();
        host.Records["pub.chive.eprint.submission"] = new() { ["3kwebaaaaaaa2"] = ScanWorld.LexiconSubmission("From did:web", null) };
        host.Records["pub.chive.review.comment"] = new()
        {
            ["3kwebaaaaaaa3"] = new JsonObject { ["eprintUri"] = "at://x", ["body"] = new JsonArray(), ["createdAt"] = "2026-03-01T00:00:00Z" },
        };
        host.ListDelay = TimeSpan.FromMilliseconds(1500);
        using var admin = fixture.CreateAdminClient();

        var started = await admin.PostAsync("triggerDIDSync", new JsonObject { ["did"] = host.Did });
        var again = await admin.PostAsync("triggerDIDSync", new JsonObject { ["did"] = host.Did });
        Assert.Equal(started["operationId"]!.GetValue<string>(), again["operationId"]!.GetValue<string>());
        Assert.True(again["alreadyRunning"]!.GetValue<bool>());

        var done = await admin.WaitForEndAsync(started["operationId"]!.GetValue<string>());
        Assert.True(("completed", 2L) == (done.Status(), done.Records()), done.ToJsonString()); // the operation, error included, if not
        Assert.Equal(2, (await Db.LiveRecordsAsync(host.Did)).Count);
        Assert.Equal([$"at://{host.Did}/pub.chive.eprint.submission/3kwebaaaaaaa2"], (await fixture.SearchDocumentsAsync($"at://{host.Did}/")).Keys);
    }

    [Fact]
    public async Task Elasticsearch_down_during_indexing_holds_the_batch_until_it_returns_and_nothing_is_lost()
    {
        await using var host = await DidWebHost.StartNewAsync();
        host.Document = host.DocumentNaming();
        host.Records["pub.chive.eprint.submission"] = new() { ["3kwebbbbbbbb2"] = ScanWorld.LexiconSubmission("Written while search was down", null) };
        using var admin = fixture.CreateAdminClient();

        fixture.Elasticsearch.Cut();
        string id;
        try
        {
            id = (await admin.PostAsync("triggerDIDSync", new JsonObject { ["did"] = host.Did }))["operationId"]!.GetValue<string>();
            await Task.Delay(TimeSpan.FromSeconds(4)); // the batch is being retried: nothing is indexed, nothing is complete
            var waiting = await admin.GetOperationAsync(id);
            Assert.Equal(("running", 0L), (waiting.Status(), waiting.Records()));
            Assert.Empty(await Db.LiveRecordsAsync(host.Did)); // the database write rolled back with the search write
        }
        finally
        {
            fixture.Elasticsearch.Restore();
        }

        var done = await admin.WaitForEndAsync(id);
        Assert.Equal(("completed", 1L), (done.Status(), done.Records()));
        Assert.Single(await Db.LiveRecordsAsync(host.Did));
        Assert.Equal([$"at://{host.Did}/pub.chive.eprint.submission/3kwebbbbbbbb2"], (await fixture.SearchDocumentsAsync($"at://{host.Did}/")).Keys);
    }

    [Fact]
    public async Task A_malformed_DID_is_refused_with_400()
    {
        using var admin = fixture.CreateAdminClient();
        foreach (var bad in new[] { "did:plc:TOO-SHORT", "not a did", "did:key:z6Mkabc" })
        {
            await AdminCalls.AssertErrorAsync(
                await admin.PostAsJsonAsync("/xrpc/pub.chive.admin.triggerDIDSync", new { did = bad }), HttpStatusCode.BadRequest, "InvalidRequest");
        }

        await AdminCalls.AssertErrorAsync(
            await admin.PostAsJsonAsync("/xrpc/pub.chive.admin.triggerDIDSync", new { }), HttpStatusCode.BadRequest, "InvalidRequest");
    }

    [Fact]
    public async Task An_unknown_DID_a_document_without_a_PDS_and_a_private_PDS_fail_saying_which()
    {
        using var admin = fixture.CreateAdminClient();
        var unknown = await admin.DidSyncAsync("did:plc:zzzzzzzzzzzzzzzzzzzzzzzz");
        Assert.Equal("failed", unknown.Status());
        Assert.Contains("could not be resolved", unknown["error"]!.GetValue<string>(), StringComparison.Ordinal);

        await using var host = await DidWebHost.StartNewAsync();
        host.Document = new JsonObject { ["id"] = host.Did, ["service"] = new JsonArray() }.ToJsonString();
        var noPds = await admin.DidSyncAsync(host.Did);
        Assert.Equal("failed", noPds.Status());
        Assert.Contains("names no atproto PDS", noPds["error"]!.GetValue<string>(), StringComparison.Ordinal);

        await using var privateHost = await DidWebHost.StartNewAsync();
        privateHost.Document = privateHost.DocumentNaming("http://10.20.30.40:2583");
        var refused = await admin.DidSyncAsync(privateHost.Did);
        Assert.Equal("failed", refused.Status());
        Assert.Contains("SSRF guard", refused["error"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}

/// <summary>The DID-sync suite with repos read as signed CARs (the default).</summary>
[Collection(ChiveAppCollection.Name)]
public sealed class DidSyncTests(ChiveAppFixture fixture) : DidSyncSuite(fixture);

/// <summary>The DID-sync suite with repos read by <c>listRecords</c>.</summary>
[Collection(ListingAppCollection.Name)]
public sealed class DidSyncListingTests(ListingAppFixture listing) : DidSyncSuite(listing.App);
