using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Chive.Tests.Infrastructure;
using Chive.Tests.PdsScan;
using Npgsql;

namespace Chive.Tests.Discovery;

/// <summary>
/// PDS discovery and the scheduled PDS scan, on the real PLC directory of the test network: nothing here triggers an
/// operation — every PDS scan is the schedule's.
/// </summary>
[Collection(DiscoveryAppCollection.Name)]
public sealed class PdsDiscoveryTests(DiscoveryAppFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    private ChiveAppFixture App => fixture.App;

    [Fact]
    public async Task A_PDS_created_after_start_up_is_discovered_through_the_PLC_and_scanned_by_the_schedule_alone()
    {
        var pds = await App.Network.AddPdsAsync();
        var account = (await App.Network.SeedAsync(App.Network.PdsUrls.Count - 1, new SeedAccount("discovered.test",
            [new SeedRecord("pub.chive.eprint.submission", ScanWorld.LexiconSubmission("Found by discovery", null))])))[0];
        var uri = account.Records[0].Uri;

        var row = await EventuallyAsync(async () => await App.Registry().GetAsync(pds) is { Status: "active" } r ? r : null, $"{pds} scanned");
        Assert.Equal("plc_enumeration", row.DiscoverySource);
        Assert.Equal(1, row.ChiveRecordCount);
        await EventuallyAsync(async () => await IndexedAsync(uri) ? true : (bool?)null, $"{uri} indexed");

        using var admin = App.CreateAdminClient();
        var scans = await PdsScansAsync(admin);
        Assert.All(scans, s => Assert.Equal("scheduler", s.Meta("startedBy")));
        Assert.Contains(scans, s => int.Parse(s.Meta("discoveredPdses") ?? "0", CultureInfo.InvariantCulture) >= 1);
        // Never two at once: the schedule goes through the trigger, which joins the running one instead.
        var spans = scans.Where(s => s.Status() != "running")
            .Select(s => (Start: Time(s, "startedAt"), End: Time(s, "completedAt"))).OrderBy(s => s.Start).ToList();
        Assert.All(spans.Zip(spans.Skip(1)), pair => Assert.True(pair.First.End <= pair.Second.Start, $"{pair.First} overlaps {pair.Second}"));
    }

    [Fact]
    public async Task Each_run_reads_the_PLC_export_only_from_where_the_last_one_stopped()
    {
        using var plc = new HttpClient { BaseAddress = App.Network.PlcUrl };
        var exported = (await plc.GetStringAsync("/export")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var lastCreated = DateTimeOffset.Parse(JsonNode.Parse(exported[^1])!["createdAt"]!.GetValue<string>(), CultureInfo.InvariantCulture);

        var cursor = await EventuallyAsync(async () => await CursorAsync("plc %") is { } c && DateTimeOffset.Parse(c, CultureInfo.InvariantCulture) >= lastCreated ? c : null,
            "the PLC cursor reaches the last operation");

        using var admin = App.CreateAdminClient();
        var started = DateTimeOffset.UtcNow;
        var later = await EventuallyAsync(async () => (await PdsScansAsync(admin))
            .FirstOrDefault(s => s.Status() == "completed" && Time(s, "startedAt") > started), "a later scheduled scan");
        var read = int.Parse(later.Meta("plcOperationsRead")!, CultureInfo.InvariantCulture);
        // Only the overlap: the operations of the last millisecond read (asked again so none sharing it is lost).
        var lastMillisecond = exported.Count(line => JsonNode.Parse(line)!["createdAt"]!.GetValue<string>() == JsonNode.Parse(exported[^1])!["createdAt"]!.GetValue<string>());
        Assert.True(read <= lastMillisecond, $"a run after the cursor {cursor} read {read} of the {exported.Length} operations again");
    }

    [Fact]
    public async Task The_relays_hosts_are_registered_and_its_hostile_entries_are_not()
    {
        var listed = new Uri($"http://{DiscoveryAppFixture.RelayListedHost}");
        var row = await EventuallyAsync(async () => await App.Registry().GetAsync(listed), $"{listed} registered");

        Assert.Equal("relay_listhosts", row.DiscoverySource);
        await using var connection = new NpgsqlConnection(App.DatabaseConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT pds_url FROM pds_registry WHERE pds_url LIKE '%10.1.2.3%' OR pds_url LIKE '%bsky.network%' OR pds_url LIKE '%evil%' OR pds_url LIKE '%banned%'", connection);
        Assert.Null(await command.ExecuteScalarAsync());
        // Paged through (2 a page), then read again from the last page on: never from the start after the first run.
        await EventuallyAsync(() => Task.FromResult(fixture.Relay.Cursors.Count >= 6 ? true : (bool?)null), "several runs");
        var cursors = fixture.Relay.Cursors;
        Assert.Equal(["", "2", "4", "6"], cursors.Take(4));
        Assert.All(cursors.Skip(4), c => Assert.Equal("6", c));
        Assert.Equal("6", await CursorAsync("relay %"));
    }

    [Fact]
    public async Task Every_service_exports_its_metrics_on_metrics_and_over_OTLP()
    {
        // The schedule runs scans: operations counted by the AdminApi, PDSes by the ScanWorker, messages by every
        // consumer, and this account's record by the IndexWorker.
        await App.Network.AddPdsAsync(); // a PDS the registry has not seen, so the schedule scans it at once
        await App.Network.SeedAsync(App.Network.PdsUrls.Count - 1, new SeedAccount("metrics.test",
            [new SeedRecord("pub.chive.eprint.submission", ScanWorld.LexiconSubmission("Counted by the IndexWorker", null))]));
        await EventuallyAsync(() => Task.FromResult(fixture.Otlp.Received("metrics", "chive_backfill_operations_total") ? true : (bool?)null), "the AdminApi's series over OTLP");
        await EventuallyAsync(() => Task.FromResult(fixture.Otlp.Received("metrics", "chive_pds_scans_total") ? true : (bool?)null), "the ScanWorker's series over OTLP");
        await EventuallyAsync(() => Task.FromResult(fixture.Otlp.Received("metrics", "chive_message_lag_seconds") ? true : (bool?)null), "the lag over OTLP");

        using var admin = App.CreateClient(Chive.ServiceDefaults.ResourceNames.AdminApi);
        using var scan = App.CreateClient(Chive.ServiceDefaults.ResourceNames.ScanWorker);
        using var index = App.CreateClient(Chive.ServiceDefaults.ResourceNames.IndexWorker);
        var adminMetrics = await ScrapeUntilAsync(admin, m => m.Sum("chive_backfill_operations_total", ("type", "pdsScan"), ("status", "completed")) >= 1);
        adminMetrics.AssertHas("chive_backfill_operations_total", ("type", "pdsScan"), ("status", "started"));
        adminMetrics.AssertHas("chive_backfill_running_operations", ("type", "didSync")); // every type, 0 when none runs
        // Counters alerts read with increase() exist at 0 from the start, so their first event is an increase.
        Assert.Equal(0, adminMetrics.Sum("chive_backfill_operations_total", ("type", "citationExtraction"), ("status", "failed")));
        adminMetrics.AssertHas("chive_backfill_operations_total", ("type", "citationExtraction"), ("status", "failed"));
        adminMetrics.AssertHas("chive_backfill_silence_seconds", ("type", "pdsScan"));
        var scanMetrics = await ScrapeUntilAsync(scan, m => m.Find("chive_pds_scans_total").Count > 0 && m.Find("chive_pdses_discovered_total").Count > 0);
        scanMetrics.AssertHas("chive_xrpc_requests_total", ("method", "com.atproto.sync.listRepos"));
        scanMetrics.AssertHas("chive_pds_unreachable_total");
        scanMetrics.AssertHasBucket("chive_message_lag_seconds", double.PositiveInfinity, ("message", "StartPdsScan"));
        var indexMetrics = await ScrapeUntilAsync(index, m => m.Sum("chive_records_indexed_total", ("outcome", "changed")) >= 1);
        indexMetrics.AssertHas("chive_message_lag_seconds_count", ("message", "IndexRecords"));
    }

    private static Task<PrometheusText> ScrapeUntilAsync(HttpClient service, Func<PrometheusText, bool> condition) =>
        EventuallyAsync(async () => new PrometheusText(await service.GetStringAsync("/metrics")) is var m && condition(m) ? m : null,
            $"the series on {service.BaseAddress}metrics");

    private static DateTimeOffset Time(JsonObject operation, string field) =>
        DateTimeOffset.Parse(operation[field]!.GetValue<string>(), CultureInfo.InvariantCulture);

    /// <summary>The PDS scans of this app (the history in Redis also holds those of the fixtures before it).</summary>
    private async Task<List<JsonObject>> PdsScansAsync(HttpClient admin) =>
        (await admin.GetFromJsonAsync<JsonObject>("/xrpc/pub.chive.admin.getBackfillStatus"))!["operations"]!.AsArray()
            .Select(o => o!.AsObject())
            .Where(o => o["type"]!.GetValue<string>() == "pdsScan" && Time(o, "startedAt") >= fixture.StartedAt).ToList();

    private async Task<bool> IndexedAsync(string uri)
    {
        await using var connection = new NpgsqlConnection(App.DatabaseConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM eprints_index WHERE uri = @uri AND deleted_at IS NULL", connection);
        command.Parameters.AddWithValue("uri", uri);
        return (long)(await command.ExecuteScalarAsync())! == 1;
    }

    private async Task<string?> CursorAsync(string sourceLike)
    {
        await using var connection = new NpgsqlConnection(App.DatabaseConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT cursor FROM discovery_cursors WHERE source LIKE @source", connection);
        command.Parameters.AddWithValue("source", sourceLike);
        return await command.ExecuteScalarAsync() as string;
    }

    private static async Task<T> EventuallyAsync<T>(Func<Task<T?>> probe, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            if (await probe() is { } found)
            {
                return found;
            }

            Assert.True(DateTime.UtcNow < deadline, $"not within {Patience}: {what}");
            await Task.Delay(250);
        }
    }
}
