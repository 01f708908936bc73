using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Chive.ServiceDefaults;
using Chive.Testing.Doubles;
using Chive.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace Chive.Tests.GovernanceSync;

/// <summary>
/// Governance sync end to end: XRPC trigger on the AdminApi → saga → RabbitMQ → ScanWorker reading the governance
/// repo on the real PDS → PostgreSQL, with status, cancel and metrics read back over HTTP.
/// </summary>
[Collection(ChiveAppCollection.Name)]
public sealed class GovernanceSyncTests(ChiveAppFixture fixture, ITestOutputHelper output)
{
    private const int Nodes = 130;
    private const int InvalidNodes = 3;
    private const int Edges = 120;
    private static readonly SemaphoreSlim SeedGate = new(1, 1);
    private static List<string>? _seededUris;

    [Fact]
    public async Task A_sync_writes_exactly_the_repo_a_second_run_changes_nothing_and_deletions_follow()
    {
        var uris = await EnsureSeededAsync();
        using var admin = fixture.CreateAdminClient();

        var first = await RunToEndAsync(admin);
        Assert.Equal("completed", first["status"]!.GetValue<string>());
        var rowsAfterFirst = await RowsAsync();
        var expectedNodes = rowsAfterFirst.Count(r => r.Table == "governance_nodes");
        var expectedEdges = rowsAfterFirst.Count(r => r.Table == "governance_edges");
        Assert.True(expectedNodes >= Nodes && expectedEdges >= Edges);
        Assert.Equal(expectedNodes + expectedEdges, first["recordsProcessed"]!.GetValue<long>());
        Assert.Equal(100, first["progress"]!.GetValue<int>());
        Assert.Equal(InvalidNodes.ToString(System.Globalization.CultureInfo.InvariantCulture), first["metadata"]!["invalidRecords"]!.GetValue<string>());

        var second = await RunToEndAsync(admin);
        Assert.Equal(first["recordsProcessed"]!.GetValue<long>(), second["recordsProcessed"]!.GetValue<long>());
        Assert.Equal(rowsAfterFirst, await RowsAsync());

        var goneNode = uris.First(u => u.Contains("/pub.chive.graph.node/", StringComparison.Ordinal));
        var goneEdge = uris.First(u => u.Contains("/pub.chive.graph.edge/", StringComparison.Ordinal));
        await DeleteRecordsAsync(goneNode, goneEdge);
        uris.Remove(goneNode);
        uris.Remove(goneEdge);

        var third = await RunToEndAsync(admin);
        var rowsAfterThird = await RowsAsync();
        Assert.Equal(rowsAfterFirst.Count - 2, rowsAfterThird.Count);
        Assert.DoesNotContain(rowsAfterThird, r => r.Uri == goneNode || r.Uri == goneEdge);
        Assert.Equal(rowsAfterThird.Count, third["recordsProcessed"]!.GetValue<long>());
        Assert.Equal("2", third["metadata"]!["removedRecords"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_cancel_while_the_PDS_is_slow_stops_the_writes_and_a_second_trigger_returns_the_running_one()
    {
        await EnsureSeededAsync();
        using var admin = fixture.CreateAdminClient();
        fixture.GovernancePds.Always = new HttpFault.Slow(TimeSpan.FromMilliseconds(1500));
        try
        {
            var watch = Stopwatch.StartNew();
            var started = await admin.PostAsync("triggerGovernanceSync", new JsonObject());
            var id = started["operationId"]!.GetValue<string>();
            Assert.False(started["alreadyRunning"]!.GetValue<bool>());
            Assert.Equal("running", started["status"]!.GetValue<string>());
            output.WriteLine($"trigger -> running visible: {watch.ElapsedMilliseconds} ms (the trigger answers with the stored running operation)");

            var again = await admin.PostAsync("triggerGovernanceSync", new JsonObject());
            Assert.Equal(id, again["operationId"]!.GetValue<string>());
            Assert.True(again["alreadyRunning"]!.GetValue<bool>());

            await admin.WaitForAsync(id, op => op["recordsProcessed"]!.GetValue<long>() > 0);
            var cancel = await admin.PostAsync("cancelBackfill", new JsonObject { ["id"] = id });
            Assert.True(cancel["success"]!.GetValue<bool>());
            var rowsAtCancel = await RowsWrittenByAsync(Guid.Parse(id));

            // Watch for 5 s, longer than a page takes: anything still running would write now.
            var afterCancel = Stopwatch.StartNew();
            var lastChange = TimeSpan.Zero;
            var rows = rowsAtCancel;
            while (afterCancel.Elapsed < TimeSpan.FromSeconds(5))
            {
                var now = await RowsWrittenByAsync(Guid.Parse(id));
                if (now != rows)
                {
                    (rows, lastChange) = (now, afterCancel.Elapsed);
                }

                await Task.Delay(100);
            }

            output.WriteLine($"cancel acknowledged -> last write: {(rows == rowsAtCancel ? "none after the acknowledgement" : $"{lastChange.TotalMilliseconds:F0} ms, {rows - rowsAtCancel} rows")}");
            var operation = await admin.GetOperationAsync(id);
            Assert.Equal("cancelled", operation["status"]!.GetValue<string>());
            Assert.Equal(rowsAtCancel, await RowsWrittenByAsync(Guid.Parse(id)));
            Assert.True(operation["progress"]!.GetValue<int>() < 100);

            var late = await admin.PostAsync("cancelBackfill", new JsonObject { ["id"] = id });
            Assert.False(late["success"]!.GetValue<bool>());
        }
        finally
        {
            fixture.GovernancePds.Always = null;
        }
    }

    [Fact]
    public async Task A_scan_worker_killed_mid_run_and_restarted_finishes_the_operation_with_the_exact_rows()
    {
        await EnsureSeededAsync();
        using var admin = fixture.CreateAdminClient();
        var reference = await RunToEndAsync(admin);
        var expectedRows = await RowsAsync();

        fixture.GovernancePds.Always = new HttpFault.Slow(TimeSpan.FromMilliseconds(800));
        string id;
        try
        {
            var started = await admin.PostAsync("triggerGovernanceSync", new JsonObject());
            id = started["operationId"]!.GetValue<string>();
            await admin.WaitForAsync(id, op => op["recordsProcessed"]!.GetValue<long>() > 0);

            await ChiveAppFixture.KillAsync("Chive.ScanWorker");
        }
        finally
        {
            fixture.GovernancePds.Always = null;
        }

        await fixture.StartServiceAsync(ResourceNames.ScanWorker);

        var finished = await admin.WaitForAsync(id, op => op["status"]!.GetValue<string>() != "running");
        Assert.Equal("completed", finished["status"]!.GetValue<string>());
        Assert.Equal(reference["recordsProcessed"]!.GetValue<long>(), finished["recordsProcessed"]!.GetValue<long>());
        Assert.Equal(expectedRows, await RowsAsync());
    }

    [Fact]
    public async Task Calls_without_a_key_are_401_with_a_wrong_key_403_and_bad_input_is_an_XRPC_error()
    {
        using var anonymous = fixture.CreateClient(Chive.ServiceDefaults.ResourceNames.AdminApi);
        await AdminCalls.AssertErrorAsync(await anonymous.GetAsync("/xrpc/pub.chive.admin.getBackfillStatus"), HttpStatusCode.Unauthorized, "AuthenticationRequired");

        anonymous.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "not-the-key");
        await AdminCalls.AssertErrorAsync(await anonymous.PostAsJsonAsync("/xrpc/pub.chive.admin.triggerGovernanceSync", new { }), HttpStatusCode.Forbidden, "Forbidden");

        using var admin = fixture.CreateAdminClient();
        await AdminCalls.AssertErrorAsync(await admin.PostAsJsonAsync("/xrpc/pub.chive.admin.triggerBackfill", new { type = "everything" }), HttpStatusCode.BadRequest, "InvalidRequest");
        await AdminCalls.AssertErrorAsync(await admin.PostAsJsonAsync("/xrpc/pub.chive.admin.triggerBackfill",
            new { type = "citationExtraction", uri = "at://did:plc:aaaaaaaaaaaaaaaaaaaaaaaa/pub.chive.review.comment/3k2aaaaaaaa2a" }), HttpStatusCode.BadRequest, "InvalidRequest");
        await AdminCalls.AssertErrorAsync(await admin.PostAsJsonAsync("/xrpc/pub.chive.admin.triggerCitationExtraction", new { uri = "https://example.com/a.pdf" }), HttpStatusCode.BadRequest, "InvalidRequest");
        await AdminCalls.AssertErrorAsync(await admin.GetAsync("/xrpc/pub.chive.admin.getBackfillStatus?id=not-a-uuid"), HttpStatusCode.BadRequest, "InvalidRequest");
        await AdminCalls.AssertErrorAsync(await admin.GetAsync($"/xrpc/pub.chive.admin.getBackfillStatus?id={Guid.NewGuid()}"), HttpStatusCode.NotFound, "OperationNotFound");
        await AdminCalls.AssertErrorAsync(await admin.PostAsJsonAsync("/xrpc/pub.chive.admin.cancelBackfill", new { id = Guid.NewGuid() }), HttpStatusCode.NotFound, "OperationNotFound");
        await AdminCalls.AssertErrorAsync(await admin.PostAsJsonAsync("/xrpc/pub.chive.admin.cancelBackfill", new { operationId = Guid.NewGuid() }), HttpStatusCode.BadRequest, "InvalidRequest");
    }

    [Fact]
    public async Task Metrics_show_the_three_backfill_series_after_a_run()
    {
        await EnsureSeededAsync();
        using var admin = fixture.CreateAdminClient();
        await RunToEndAsync(admin);

        var metrics = new PrometheusText(await admin.GetStringAsync("/metrics"));

        metrics.AssertHas("chive_backfill_operations_total", ("type", "governanceSync"), ("status", "started"));
        metrics.AssertHas("chive_backfill_operations_total", ("type", "governanceSync"), ("status", "completed"));
        metrics.AssertHas("chive_backfill_records_processed", ("type", "governanceSync"));
        foreach (var le in new[] { 1, 5, 10, 30, 60, 300, 600, 1800, 3600, double.PositiveInfinity })
        {
            metrics.AssertHasBucket("chive_backfill_duration_seconds", le, ("type", "governanceSync"));
        }
    }

    [Fact]
    public async Task A_first_page_delivered_again_forks_nothing_and_the_count_is_exact()
    {
        await EnsureSeededAsync();
        using var admin = fixture.CreateAdminClient();
        var expected = (await RunToEndAsync(admin)).Records();
        fixture.GovernancePds.Always = new HttpFault.Slow(TimeSpan.FromMilliseconds(300));
        try
        {
            var started = await admin.PostAsync("triggerGovernanceSync", new JsonObject());
            var id = Guid.Parse(started["operationId"]!.GetValue<string>());
            var first = new Chive.Contracts.GovernanceSync.SyncGovernanceChunk(id, Chive.Contracts.GovernanceSync.GovernanceCollections.Node, null, 0, 0);
            await fixture.PublishAsync(first);
            await fixture.PublishAsync(first);
            var done = await admin.WaitForEndAsync(id.ToString("D"));

            Assert.Equal(("completed", expected), (done.Status(), done.Records()));
        }
        finally
        {
            fixture.GovernancePds.Always = null;
        }
    }

    [Fact]
    public async Task An_empty_but_successful_listing_removes_nothing_and_fails_saying_why_until_forced()
    {
        await EnsureSeededAsync();
        using var admin = fixture.CreateAdminClient();
        Assert.Equal("completed", (await RunToEndAsync(admin))["status"]!.GetValue<string>());
        var rows = await RowsAsync();

        fixture.GovernancePds.Always = new HttpFault.Canned("{\"records\":[]}");
        try
        {
            var refused = await RunToEndAsync(admin);
            Assert.Equal("failed", refused.Status());
            Assert.Contains($"would remove {rows.Count} of {rows.Count} graph records", refused["error"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Contains("{\"force\": true}", refused["error"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Equal(rows, await RowsAsync());

            var forced = await admin.PostAsync("triggerGovernanceSync", new JsonObject { ["force"] = true });
            var done = await admin.WaitForEndAsync(forced["operationId"]!.GetValue<string>());
            Assert.Equal(("completed", rows.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)), (done.Status(), done.Meta("removedRecords")));
            Assert.Empty(await RowsAsync());
        }
        finally
        {
            fixture.GovernancePds.Always = null;
        }

        Assert.Equal("completed", (await RunToEndAsync(admin)).Status());
        Assert.Equal(rows.Select(r => r.Uri), (await RowsAsync()).Select(r => r.Uri)); // the next honest sync brings it all back
    }

    [Fact]
    public async Task A_start_lost_between_the_sagas_save_and_its_send_is_sent_again_by_the_watchdog()
    {
        await EnsureSeededAsync();
        // The state a crash would leave: the operation stored as running, its scope held, its first unit never sent.
        var store = await fixture.OperationStoreAsync();
        var id = Guid.NewGuid();
        var startedAt = DateTimeOffset.UtcNow.AddSeconds(-10);
        Assert.True(await store.InsertAsync(new Chive.AdminApi.Operations.BackfillOperation
        {
            CorrelationId = id,
            CurrentState = "Running",
            Type = "governanceSync",
            StartedAt = startedAt,
            StartSentAt = startedAt,
            Metadata = new() { ["startedBy"] = "crashed" },
        }));
        using var admin = fixture.CreateAdminClient();

        var done = await admin.WaitForEndAsync(id.ToString("D"), TimeSpan.FromMinutes(1));

        Assert.Equal("completed", done.Status());
        Assert.Equal((await RowsAsync()).Count, done.Records());
        Assert.Equal("1", done.Meta("startResends"));
    }

    private async Task<JsonObject> RunToEndAsync(HttpClient admin)
    {
        var started = await admin.PostAsync("triggerBackfill", new JsonObject { ["type"] = "governanceSync" });
        var id = started["operation"]!["id"]!.GetValue<string>();
        Assert.Equal(ChiveAppFixture.AdminKeyLabel, started["operation"]!["metadata"]!["startedBy"]!.GetValue<string>());
        return await admin.WaitForAsync(id, op => op["status"]!.GetValue<string>() != "running");
    }

    private async Task<List<(string Table, string Uri, string Cid)>> RowsAsync()
    {
        await using var connection = new NpgsqlConnection(fixture.DatabaseConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT 'governance_nodes', uri, cid FROM governance_nodes UNION ALL SELECT 'governance_edges', uri, cid FROM governance_edges ORDER BY 2", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(string, string, string)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2)));
        }

        return rows;
    }

    private async Task<long> RowsWrittenByAsync(Guid operationId)
    {
        await using var connection = new NpgsqlConnection(fixture.DatabaseConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT (SELECT count(*) FROM governance_nodes WHERE sync_operation_id = @op) + (SELECT count(*) FROM governance_edges WHERE sync_operation_id = @op)", connection);
        command.Parameters.AddWithValue("op", operationId);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Writes the governance repo once per fixture: valid nodes, a few invalid ones, and edges between nodes.</summary>
    /// <summary>The governance repo holds 130 valid nodes, 3 invalid ones and 120 edges (seeded once).</summary>
    internal async Task<List<string>> EnsureSeededAsync()
    {
        await SeedGate.WaitAsync();
        try
        {
            if (_seededUris is not null && _seededUris.Count > 0 && await IsSeededAsync())
            {
                return _seededUris;
            }

            var now = "2026-11-28T12:00:00.000Z";
            var nodes = Enumerable.Range(0, Nodes).Select(i => new JsonObject
            {
                ["$type"] = "pub.chive.graph.node",
                ["id"] = $"node-{i}",
                ["slug"] = $"field-{i}",
                ["kind"] = "type",
                ["subkind"] = "field",
                ["label"] = $"Field {i}",
                ["status"] = "established",
                ["createdAt"] = now,
            }).Concat(Enumerable.Range(0, InvalidNodes).Select(i => new JsonObject
            {
                ["$type"] = "pub.chive.graph.node",
                ["id"] = $"broken-{i}",
                ["kind"] = "type",
                ["status"] = "established",
                ["createdAt"] = now,
            })).ToList();
            var nodeUris = await CreateRecordsAsync("pub.chive.graph.node", nodes);
            var edges = Enumerable.Range(0, Edges).Select(i => new JsonObject
            {
                ["$type"] = "pub.chive.graph.edge",
                ["id"] = $"edge-{i}",
                ["sourceUri"] = nodeUris[i % Nodes],
                ["targetUri"] = nodeUris[(i + 1) % Nodes],
                ["relationSlug"] = "broader",
                ["weight"] = 500,
                ["status"] = "established",
                ["createdAt"] = now,
            }).ToList();
            var edgeUris = await CreateRecordsAsync("pub.chive.graph.edge", edges);
            _seededUris = [.. nodeUris.Take(Nodes), .. edgeUris];
            return _seededUris;
        }
        finally
        {
            SeedGate.Release();
        }
    }

    private async Task<bool> IsSeededAsync()
    {
        using var http = new HttpClient { BaseAddress = fixture.Network.PdsUrls[0] };
        var page = await http.GetFromJsonAsync<JsonObject>($"/xrpc/com.atproto.repo.listRecords?repo={fixture.Governance.Did}&collection=pub.chive.graph.node&limit=1");
        return page!["records"]!.AsArray().Count > 0;
    }

    private async Task<List<string>> CreateRecordsAsync(string collection, List<JsonObject> values)
    {
        var uris = new List<string>();
        foreach (var batch in values.Chunk(100))
        {
            var writes = new JsonArray([.. batch.Select(v => (JsonNode)new JsonObject
            {
                ["$type"] = "com.atproto.repo.applyWrites#create", ["collection"] = collection, ["value"] = v,
            })]);
            var result = await ApplyWritesAsync(writes);
            uris.AddRange(result["results"]!.AsArray().Select(r => r!["uri"]!.GetValue<string>()));
        }

        return uris;
    }

    private Task DeleteRecordsAsync(params string[] uris) => ApplyWritesAsync(new JsonArray([.. uris.Select(u => (JsonNode)new JsonObject
    {
        ["$type"] = "com.atproto.repo.applyWrites#delete", ["collection"] = u.Split('/')[3], ["rkey"] = u.Split('/')[4],
    })]));

    /// <summary>The governance account's own client writes its repo (Chive never writes to a PDS).</summary>
    private async Task<JsonObject> ApplyWritesAsync(JsonArray writes)
    {
        using var http = new HttpClient { BaseAddress = fixture.Network.PdsUrls[0] };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", fixture.Governance.AccessJwt);
        using var response = await http.PostAsJsonAsync("/xrpc/com.atproto.repo.applyWrites", new JsonObject
        {
            ["repo"] = fixture.Governance.Did,
            ["validate"] = false,
            ["writes"] = writes,
        });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonNode.Parse(text)!.AsObject();
    }
}
