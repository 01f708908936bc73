using System.Text.Json.Nodes;
using Chive.ServiceDefaults;
using Chive.Tests.Infrastructure;
using Chive.Tests.Reindex;

namespace Chive.Tests.ScaleOut;

/// <summary>
/// A full reindex on two IndexWorker replicas: its units (pages of eprints, one chain) go to whichever replica is free;
/// one killed while it writes a unit changes nothing — its unit returns to the queue, the other replica takes it, and
/// the new index holds exactly the live eprints.
/// </summary>
[Collection(ReplicaAppCollection.Name)]
public sealed class ReindexReplicaTests(ReplicaAppFixture replicas)
{
    private ChiveAppFixture Fixture => replicas.App;

    [Fact]
    public async Task A_reindex_on_two_IndexWorkers_with_one_killed_mid_unit_has_exactly_the_live_eprints()
    {
        await FullReindexTests.SeedAsync(Fixture);
        using var admin = Fixture.CreateAdminClient();
        var search = Fixture.ElasticsearchServer;
        // Pages of 100 and a second per bulk write: 13 pages, in two units of up to 10 pages — the first holds its
        // replica for ten seconds, long enough to know which replica that is from the log and kill it while it writes.
        search.BulkDelay = TimeSpan.FromSeconds(1);
        try
        {
            var started = await admin.PostAsync("triggerFullReindex", new JsonObject { ["batchSize"] = 100 });
            var id = started["operationId"]!.GetValue<string>();
            var first = $"Reindex {id}: the unit after (the start)";
            await Eventually(() => Fixture.LastLogged(ResourceNames.IndexWorker, first) is not null
                && Fixture.LogLinesContaining(ResourceNames.IndexWorker, $"Reindex {id}: 100 documents") > 0);
            var (busy, unit) = Fixture.LastLogged(ResourceNames.IndexWorker, first)!.Value;
            JsonObject done;
            try
            {
                await ChiveAppFixture.KillProcessAsync(busy);
                search.BulkDelay = TimeSpan.Zero;
                done = await admin.WaitForEndAsync(id);
            }
            finally
            {
                await Fixture.RestartKilledReplicaAsync(ResourceNames.IndexWorker); // the next test has both replicas again
            }
            Assert.Equal("completed", done.Status());
            var live = await FullReindexTests.LiveEprintsAsync(Fixture);
            Assert.Equal(live.Count, done.Records());
            Assert.Equal(done.Meta("index"), await Fixture.AliasTargetAsync());
            Assert.Equal(live.Where(u => u.StartsWith(FullReindexTests.UriPrefix, StringComparison.Ordinal)),
                (await Fixture.SearchDocumentsAsync(FullReindexTests.UriPrefix)).Keys.Order(StringComparer.Ordinal));
            Assert.True(Fixture.ProcessesThatLogged(ResourceNames.IndexWorker, unit).Count >= 2, $"'{unit}' was not taken again by the other replica");
        }
        finally
        {
            search.BulkDelay = TimeSpan.Zero;
        }
    }

    private static async Task Eventually(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!condition())
        {
            await Task.Delay(100, timeout.Token);
        }
    }
}
