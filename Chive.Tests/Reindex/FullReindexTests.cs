using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Chive.Contracts.Indexing;
using Chive.IndexWorker.Indexing;
using Chive.IndexWorker.Reindex;
using Chive.ServiceDefaults;
using Chive.Testing.Doubles;
using Chive.Tests.Infrastructure;
using Chive.Tests.PdsScan;
using Npgsql;

namespace Chive.Tests.Reindex;

/// <summary>
/// Full reindex end to end: trigger → saga → IndexWorker reading eprints_index → a new versioned index → alias swap,
/// against the Elasticsearch double (or a real cluster with CHIVE_TEST_ELASTICSEARCH_URL; the tests that inject
/// failures or slowness into the double then use smaller batches or say why they cannot run).
/// 1,234 eprints (not a multiple of the batch size) are stored through the IndexWorker's own projection, half in
/// lexicon form and half in Chive's legacy form; 10 of them are then deleted.
/// </summary>
[Collection(ChiveAppCollection.Name)]
public sealed class FullReindexTests(ChiveAppFixture fixture)
{
    private const string Did = "did:plc:reindexaaaaaaaaaaaaaaaaa";
    private const int Seeded = 1234;
    private const int Deleted = 10;
    private static readonly SemaphoreSlim SeedGate = new(1, 1);
    private static readonly HashSet<string> SeededDatabases = [];

    private static bool RealCluster => ChiveAppFixture.RealElasticsearch is not null;

    private ElasticsearchDouble Double => fixture.ElasticsearchServer;

    [Fact]
    public async Task A_reindex_builds_the_next_index_swaps_the_alias_and_deletes_the_old_one()
    {
        await SeedAsync();
        using var admin = fixture.CreateAdminClient();
        var before = await fixture.AliasTargetAsync();

        var done = await ReindexAsync(admin, new JsonObject());

        Assert.Equal("completed", done.Status());
        var after = await fixture.AliasTargetAsync();
        Assert.Equal(SearchIndexes.NextVersion(before ?? "eprints-v1"), after);
        Assert.Equal(after, done.Meta("index"));
        if (before is not null)
        {
            Assert.False(await fixture.IndexExistsAsync(before));
        }

        var live = await LiveEprintsAsync();
        Assert.Equal(live.Count, done.Records());
        Assert.Equal("0", done.Meta("itemErrors"));
        var documents = await fixture.SearchDocumentsAsync($"at://{Did}/");
        Assert.Equal(Seeded - Deleted, documents.Count);
        Assert.Equal(live.Where(u => u.StartsWith($"at://{Did}/", StringComparison.Ordinal)), documents.Keys.Order(StringComparer.Ordinal));

        var lexicon = documents[Uri(1)];
        Assert.Equal("Lexicon eprint 1", lexicon["title"]!.GetValue<string>());
        Assert.Equal("Abstract of Lexicon eprint 1.", lexicon["abstract"]!.GetValue<string>());
        Assert.Equal("did:plc:authoraaaaaaaaaaaaaaaaaa", lexicon["primaryAuthor"]!["did"]!.GetValue<string>());
        Assert.Equal("Second Author", lexicon["authors"]![1]!["name"]!.GetValue<string>());
        Assert.Equal("Physics", lexicon["fields"]![0]!["label"]!.GetValue<string>()); // from the governance graph
        Assert.Equal(["physics", "gravity"], lexicon["keywords"]!.AsArray().Select(k => k!.GetValue<string>()));
        var legacy = documents[Uri(2)];
        Assert.Equal(("MIT", "10.1234/legacy-2", "Biology"), (legacy["license"]!.GetValue<string>(), legacy["doi"]!.GetValue<string>(), legacy["fields"]![0]!["label"]!.GetValue<string>()));
        Assert.Equal("Lee Legacy", legacy["primaryAuthor"]!["name"]!.GetValue<string>()); // no order 1: the first author
        Assert.Equal("Plain abstract 2.", legacy["abstract"]!.GetValue<string>());
        Assert.DoesNotContain(Uri(3), documents.Keys); // deleted

        if (!RealCluster)
        {
            var definition = Double.Definition(after!)!;
            Assert.Equal("chive_suggest", definition["mappings"]!["properties"]!["title"]!["fields"]!["suggest"]!["analyzer"]!.GetValue<string>());
            Assert.Equal("-1", definition["settings"]!["refresh_interval"]!.GetValue<string>()); // built without periodic refresh…
            Assert.Equal("1s", Double.SettingsUpdate(after!)!["index"]!["refresh_interval"]!.GetValue<string>()); // …turned back on before the swap
        }
    }

    [Fact]
    public async Task Cancel_mid_reindex_leaves_the_alias_and_the_live_index_answering_and_deletes_the_new_one()
    {
        await SeedAsync();
        using var admin = fixture.CreateAdminClient();
        using var slow = Slow();

        var id = await StartAsync(admin, new JsonObject { ["batchSize"] = SmallBatch });
        await admin.WaitForAsync(id, op => op.Records() > 0 && op.Status() == "running");
        var live = await fixture.AliasTargetAsync();
        var answering = (await fixture.SearchDocumentsAsync($"at://{Did}/")).Count;
        var building = SearchIndexes.NextVersion(live);
        Assert.True(await fixture.IndexExistsAsync(building));

        var cancel = await admin.PostAsync("cancelBackfill", new JsonObject { ["id"] = id });
        Assert.True(cancel["success"]!.GetValue<bool>());

        Assert.Equal("cancelled", (await admin.GetOperationAsync(id)).Status());
        await Eventually(async () => !await fixture.IndexExistsAsync(building), $"{building} is still there");
        Assert.Equal(live, await fixture.AliasTargetAsync());
        Assert.Equal(answering, (await fixture.SearchDocumentsAsync($"at://{Did}/")).Count);
    }

    [Fact]
    public async Task Item_errors_are_counted_and_an_Elasticsearch_that_goes_away_fails_the_reindex_without_touching_the_alias()
    {
        if (RealCluster)
        {
            return; // a real cluster cannot be told to fail chosen documents; the double can
        }

        await SeedAsync();
        using var admin = fixture.CreateAdminClient();
        Double.FailDocument = id => id.StartsWith($"at://{Did}/", StringComparison.Ordinal) && id.EndsWith("0007", StringComparison.Ordinal);
        try
        {
            var done = await ReindexAsync(admin, new JsonObject());
            Assert.Equal("completed", done.Status());
            Assert.Equal("1", done.Meta("itemErrors"));
            Assert.Equal((await LiveEprintsAsync()).Count - 1, done.Records());
        }
        finally
        {
            Double.FailDocument = _ => false;
        }

        using var slow = Slow();
        var id = await StartAsync(admin, new JsonObject { ["batchSize"] = SmallBatch });
        await admin.WaitForAsync(id, op => op.Records() > 0 && op.Status() == "running");
        var live = await fixture.AliasTargetAsync();
        var building = SearchIndexes.NextVersion(live);
        fixture.Elasticsearch.Cut();
        JsonObject failed;
        try
        {
            failed = await admin.WaitForEndAsync(id);
        }
        finally
        {
            fixture.Elasticsearch.Restore();
        }

        Assert.Equal("failed", failed.Status());
        Assert.False(string.IsNullOrEmpty(failed["error"]?.GetValue<string>()));
        Assert.Equal(live, await fixture.AliasTargetAsync());
        await Eventually(async () => !await fixture.IndexExistsAsync(building), $"{building} was not cleaned up after Elasticsearch came back");
        Assert.Equal(Seeded - Deleted - 1, (await fixture.SearchDocumentsAsync($"at://{Did}/")).Count);
    }

    [Fact]
    public async Task Eprints_written_and_deleted_through_the_pipeline_during_a_reindex_are_right_after_the_swap()
    {
        await SeedAsync();
        await using var host = await DidWebHost.StartNewAsync();
        host.Document = host.DocumentNaming();
        host.Records["pub.chive.eprint.submission"] = new()
        {
            ["3kduringaaaa1"] = ScanWorld.LexiconSubmission("Kept during the reindex", null),
            ["3kduringaaaa2"] = ScanWorld.LexiconSubmission("Deleted during the reindex", null),
        };
        using var admin = fixture.CreateAdminClient();
        Assert.Equal("completed", (await admin.DidSyncAsync(host.Did)).Status());

        using var slow = Slow();
        var id = await StartAsync(admin, new JsonObject { ["batchSize"] = SmallBatch });
        await admin.WaitForAsync(id, op => op.Records() > 0 && op.Status() == "running");

        host.Records["pub.chive.eprint.submission"].Remove("3kduringaaaa2");
        host.Records["pub.chive.eprint.submission"]["3kduringaaaa3"] = ScanWorld.LexiconSubmission("Written during the reindex", null);
        var sync = await admin.DidSyncAsync(host.Did);
        Assert.Equal(("completed", "1"), (sync.Status(), sync.Meta("deletedRecords")));
        Assert.Equal("running", (await admin.GetOperationAsync(id)).Status()); // the pipeline wrote while the reindex ran

        var done = await admin.WaitForEndAsync(id);
        Assert.Equal("completed", done.Status());
        Assert.Equal(
            [$"at://{host.Did}/pub.chive.eprint.submission/3kduringaaaa1", $"at://{host.Did}/pub.chive.eprint.submission/3kduringaaaa3"],
            (await fixture.SearchDocumentsAsync($"at://{host.Did}/")).Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task The_IndexWorker_killed_mid_reindex_and_restarted_completes_with_exactly_the_right_documents()
    {
        await SeedAsync();
        using var admin = fixture.CreateAdminClient();
        using var slow = Slow();

        var id = await StartAsync(admin, new JsonObject { ["batchSize"] = SmallBatch });
        await admin.WaitForAsync(id, op => op.Records() > 0 && op.Status() == "running");
        await ChiveAppFixture.KillAsync("Chive.IndexWorker");
        slow.Dispose();
        await fixture.StartServiceAsync(ResourceNames.IndexWorker);

        var done = await admin.WaitForEndAsync(id);
        Assert.Equal("completed", done.Status());
        var live = await LiveEprintsAsync();
        Assert.Equal(live.Count, done.Records());
        Assert.Equal(done.Meta("index"), await fixture.AliasTargetAsync());
        Assert.Equal(live.Where(u => u.StartsWith($"at://{Did}/", StringComparison.Ordinal)),
            (await fixture.SearchDocumentsAsync($"at://{Did}/")).Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_start_delivered_again_keeps_the_index_its_first_delivery_is_filling()
    {
        await SeedAsync();
        using var admin = fixture.CreateAdminClient();
        var before = await fixture.AliasTargetAsync();
        string id;
        using (Slow())
        {
            id = await StartAsync(admin, new JsonObject { ["batchSize"] = SmallBatch });
            await admin.WaitForAsync(id, op => op.Records() > 0 && op.Status() == "running");

            // The same start again (a redelivery, or the watchdog's resend) while the chunks fill the new index.
            await fixture.PublishAsync(new Chive.Contracts.Reindex.StartFullReindex(Guid.Parse(id), SmallBatch));
            await fixture.PublishAsync(new Chive.Contracts.Reindex.StartFullReindex(Guid.Parse(id), SmallBatch));
        }

        var done = await admin.WaitForEndAsync(id);

        Assert.Equal("completed", done.Status());
        Assert.Equal(SearchIndexes.NextVersion(before ?? "eprints-v1"), done.Meta("index"));
        var live = await LiveEprintsAsync();
        Assert.Equal(live.Count, done.Records());
        Assert.Equal(live.Where(u => u.StartsWith($"at://{Did}/", StringComparison.Ordinal)),
            (await fixture.SearchDocumentsAsync($"at://{Did}/")).Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_chunk_delivered_after_the_reindex_completed_leaves_the_live_index_alone()
    {
        await SeedAsync();
        using var admin = fixture.CreateAdminClient();
        var done = await ReindexAsync(admin, new JsonObject { ["batchSize"] = SmallBatch });
        Assert.Equal("completed", done.Status());
        var live = done.Meta("index")!;

        // The first chunk again, as a redelivery after the swap would bring it.
        await fixture.PublishAsync(new Chive.Contracts.Reindex.ReindexChunk(
            Guid.Parse(done["id"]!.GetValue<string>()), live, done.Meta("previousIndex"), AfterUri: null, SmallBatch, Total: 0, Indexed: 0, ItemErrors: 0,
            StartedAt: DateTimeOffset.UtcNow));
        await Task.Delay(2000);

        Assert.Equal(live, await fixture.AliasTargetAsync());
        Assert.True(await fixture.IndexExistsAsync(live));
        Assert.Equal((await LiveEprintsAsync()).Count(u => u.StartsWith($"at://{Did}/", StringComparison.Ordinal)),
            (await fixture.SearchDocumentsAsync($"at://{Did}/")).Count);
    }

    [Fact]
    public async Task The_index_being_built_deleted_behind_its_back_fails_the_reindex_and_nothing_is_created_in_its_place()
    {
        if (RealCluster)
        {
            return; // the check reads the double's list of indices
        }

        await SeedAsync();
        using var admin = fixture.CreateAdminClient();
        using var slow = Slow();
        var id = await StartAsync(admin, new JsonObject { ["batchSize"] = SmallBatch });
        await admin.WaitForAsync(id, op => op.Records() > 0 && op.Status() == "running");
        var live = await fixture.AliasTargetAsync();
        var building = SearchIndexes.NextVersion(live);

        using (var client = new HttpClient { BaseAddress = fixture.ElasticsearchServer.BaseAddress })
        {
            (await client.DeleteAsync("/" + building)).EnsureSuccessStatusCode();
        }

        var done = await admin.WaitForEndAsync(id);

        Assert.Equal("failed", done.Status());
        Assert.Contains("does not exist", done["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.DoesNotContain(building, Double.Indices);
        Assert.DoesNotContain(SearchIndexes.BuildAlias(building), Double.Indices);
        Assert.Equal(live, await fixture.AliasTargetAsync());
        Assert.All(Double.Indices, index => Assert.NotNull(Double.Definition(index)?["mappings"]));
    }

    [Fact]
    public async Task A_bad_batch_size_is_refused_with_400()
    {
        using var admin = fixture.CreateAdminClient();
        foreach (var body in new object[] { new { batchSize = 0 }, new { batchSize = 10_001 }, new { batchSize = "500" } })
        {
            await AdminCalls.AssertErrorAsync(await admin.PostAsJsonAsync("/xrpc/pub.chive.admin.triggerFullReindex", body), HttpStatusCode.BadRequest, "InvalidRequest");
        }
    }

    /// <summary>Small batches and, on the double, slow bulk answers: a reindex that runs for several seconds.</summary>
    private static int SmallBatch => RealCluster ? 5 : 20;

    private IDisposable Slow()
    {
        Double.BulkDelay = TimeSpan.FromMilliseconds(100);
        return new Restore(() => Double.BulkDelay = TimeSpan.Zero);
    }

    private static async Task<string> StartAsync(HttpClient admin, JsonObject body)
    {
        var started = await admin.PostAsync("triggerFullReindex", body);
        Assert.False(started["alreadyRunning"]!.GetValue<bool>());
        return started["operationId"]!.GetValue<string>();
    }

    private static async Task<JsonObject> ReindexAsync(HttpClient admin, JsonObject body) =>
        await admin.WaitForEndAsync(await StartAsync(admin, body));

    private static async Task Eventually(Func<Task<bool>> condition, string message)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, message);
            await Task.Delay(200);
        }
    }

    private Task<List<string>> LiveEprintsAsync() => LiveEprintsAsync(fixture);

    private Task SeedAsync() => SeedAsync(fixture);

    /// <summary>Every live eprint's URI in the fixture's database, in ordinal order.</summary>
    internal static async Task<List<string>> LiveEprintsAsync(ChiveAppFixture fixture)
    {
        await using var connection = new NpgsqlConnection(fixture.DatabaseConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT uri FROM eprints_index WHERE deleted_at IS NULL ORDER BY uri COLLATE \"C\"", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var uris = new List<string>();
        while (await reader.ReadAsync())
        {
            uris.Add(reader.GetString(0));
        }

        return uris.Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// 1,234 eprints through the IndexWorker's own projection, 10 then deleted (once per fixture's database), and a
    /// governance node for a label (on every call). Their URIs start <see cref="UriPrefix"/>.
    /// </summary>
    internal static async Task SeedAsync(ChiveAppFixture fixture)
    {
        await SeedGate.WaitAsync();
        try
        {
            await using var db = NpgsqlDataSource.Create(fixture.DatabaseConnectionString);
            // Every time: a governance sync of the fixture's test governance repo (another test class) removes nodes
            // that repo does not hold, this one among them.
            await using (var node = db.CreateCommand("""
                INSERT INTO governance_nodes (uri, cid, id, kind, label, status, record)
                VALUES ('at://did:plc:aaaaaaaaaaaaaaaaaaaaaaaa/pub.chive.graph.node/physics', 'bafyreiphysics', 'physics', 'type', 'Physics', 'established', '{}')
                ON CONFLICT (uri) DO NOTHING
                """))
            {
                await node.ExecuteNonQueryAsync();
            }

            if (SeededDatabases.Contains(fixture.DatabaseName))
            {
                return;
            }

            var records = Enumerable.Range(1, Seeded).Select(i => new FetchedRecord(Uri(i), FakeCid(i), (i % 2 == 1 ? Lexicon(i) : Legacy(i)).ToJsonString())).ToList();
            var outcome = await new RecordIndexer(db, Microsoft.Extensions.Logging.Abstractions.NullLogger<RecordIndexer>.Instance).IndexAsync("http://pds.reindex.test", records, CancellationToken.None);
            Assert.Equal(Seeded, outcome.Indexed);
            await using (var delete = db.CreateCommand("UPDATE eprints_index SET deleted_at = now(), deletion_source = 'admin' WHERE uri = ANY(@uris)"))
            {
                delete.Parameters.AddWithValue("uris", Enumerable.Range(0, Deleted).Select(i => Uri(3 + (i * 100))).ToArray());
                Assert.Equal(Deleted, await delete.ExecuteNonQueryAsync());
            }

            SeededDatabases.Add(fixture.DatabaseName);
        }
        finally
        {
            SeedGate.Release();
        }
    }

    internal const string UriPrefix = $"at://{Did}/";

    private static string Uri(int i) => $"at://{Did}/pub.chive.eprint.submission/3kreindex{i:D4}";

    private static string FakeCid(int i) => $"bafyreireindex{i:D4}aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".ToLowerInvariant().Replace('0', 'a').Replace('1', 'b').Replace('8', 'c').Replace('9', 'd');

    private static JsonObject Lexicon(int i)
    {
        var record = ScanWorld.LexiconSubmission($"Lexicon eprint {i}", null);
        record["authors"] = new JsonArray(
            new JsonObject { ["did"] = "did:plc:authoraaaaaaaaaaaaaaaaaa", ["name"] = "Ada Author", ["order"] = 1 },
            new JsonObject { ["name"] = "Second Author", ["order"] = 2 });
        return record;
    }

    private static JsonObject Legacy(int i)
    {
        var record = ScanWorld.LegacySubmission($"Legacy eprint {i}");
        record["abstract"] = $"Plain abstract {i}.";
        record["doi"] = $"10.1234/legacy-{i}";
        return record;
    }
}
