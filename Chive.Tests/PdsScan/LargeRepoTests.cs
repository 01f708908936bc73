using System.Text.Json.Nodes;
using Chive.Testing.Doubles;
using Chive.Tests.Infrastructure;

namespace Chive.Tests.PdsScan;

/// <summary>
/// A repo of mostly Bluesky records read as one signed CAR: 20,000 posts (2 KB of text each — longer than Bluesky allows,
/// so the CAR is large enough for its size to show in memory: about 45 MB) and 50 Chive records, on the real PDS. The
/// DID sync takes exactly the 50, with one <c>getRepo</c>, and the ScanWorker's peak resident memory grows by less than
/// half the CAR's size while it reads it (the CAR is streamed to a temporary file; only an index of its blocks is held).
/// </summary>
[Collection(ChiveAppCollection.Name)]
public sealed class LargeRepoTests(ChiveAppFixture fixture)
{
    private const int Posts = 20_000;
    private const int ChiveRecords = 50;

    [Fact]
    public async Task A_20000_post_repo_yields_exactly_its_50_chive_records_with_the_ScanWorkers_memory_bounded()
    {
        Assert.True(fixture.Verified);
        var text = new string('w', 2000);
        var records = Enumerable.Range(0, Posts).Select(i => new SeedRecord("app.bsky.feed.post", new JsonObject
        {
            ["$type"] = "app.bsky.feed.post",
            ["text"] = $"{i} {text}",
            ["createdAt"] = "2026-03-01T00:00:00Z",
        })).Concat(Enumerable.Range(0, ChiveRecords).Select(i => new SeedRecord(
            i % 5 == 0 ? "pub.chive.eprint.submission" : "pub.chive.eprint.userTag",
            i % 5 == 0
                ? ScanWorld.LexiconSubmission($"Among the posts {i}", null)
                : new JsonObject { ["eprintUri"] = "at://x", ["tag"] = $"t{i}", ["createdAt"] = "2026-03-01T00:00:00Z" })))
            .ToList();
        var network = fixture.Network;
        await using var proxy = await HttpFaultProxy.StartNewAsync(network.PdsUrls[0]);
        var seeded = await network.SeedAsync(0, proxy.BaseAddress,
            new SeedAccount($"big{Guid.NewGuid():N}"[..12] + ".test", records),
            new SeedAccount($"warm{Guid.NewGuid():N}"[..12] + ".test", records.TakeLast(ChiveRecords).ToList()));
        var account = seeded[0];
        using var admin = fixture.CreateAdminClient();
        // A small repo first, so that what is measured is the reading of the large one, not the first use of the code.
        Assert.Equal("completed", (await admin.DidSyncAsync(seeded[1].Did)).Status());
        proxy.ResetCount();

        var worker = Assert.Single(System.Diagnostics.Process.GetProcessesByName("Chive.ScanWorker"));
        await File.WriteAllTextAsync($"/proc/{worker.Id}/clear_refs", "5"); // resets the peak (VmHWM) to the current RSS
        var before = Kib(worker.Id, "VmHWM");

        var done = await admin.DidSyncAsync(account.Did);

        var peak = Kib(worker.Id, "VmHWM");
        var carBytes = await CarBytesAsync(account.Did);
        Assert.Equal(("completed", (long)ChiveRecords, "0"), (done.Status(), done.Records(), done.Meta("reposUnverified")));
        Assert.Equal((1, 0), (proxy.CountOf("com.atproto.sync.getRepo"), proxy.CountOf("com.atproto.repo.listRecords")));
        var expected = account.Records.Where(r => ScanWorld.IsChive(r.Uri)).ToDictionary(r => r.Uri, r => r.Cid);
        Assert.Equal(expected.OrderBy(p => p.Key), (await new ScanDatabase(fixture.DatabaseConnectionString).LiveRecordsAsync(account.Did)).OrderBy(p => p.Key));

        var grewKib = peak - before;
        Console.WriteLine($"Large repo: CAR {carBytes / 1024.0 / 1024:F1} MiB; ScanWorker peak RSS {before / 1024.0:F0} → {peak / 1024.0:F0} MiB (+{grewKib / 1024.0:F1} MiB)");
        Assert.True(carBytes > 40L * 1024 * 1024, $"the CAR is only {carBytes} bytes");
        Assert.True(grewKib * 1024L < carBytes / 2, $"the ScanWorker's peak RSS grew by {grewKib} KiB reading a CAR of {carBytes} bytes");
    }

    private async Task<long> CarBytesAsync(string did)
    {
        await using var stream = await Chive.Testing.TestClients.Xrpc().GetRepoAsync(fixture.Network.PdsUrls[0], Chive.AtProto.Identifiers.Did.Parse(did));
        var total = 0L;
        var buffer = new byte[81920];
        for (int read; (read = await stream.ReadAsync(buffer)) > 0;)
        {
            total += read;
        }

        return total;
    }

    private static long Kib(int pid, string field)
    {
        var line = File.ReadLines($"/proc/{pid}/status").Single(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
    }
}
