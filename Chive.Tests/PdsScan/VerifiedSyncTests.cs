using System.Text.Json.Nodes;
using Chive.AtProto.Identity;
using Chive.Testing;
using Chive.Testing.Doubles;
using Chive.Tests.Infrastructure;
using Npgsql;

namespace Chive.Tests.PdsScan;

/// <summary>
/// DID sync with repos read as signed CARs: a real account's records, from one <c>getRepo</c> and no
/// <c>listRecords</c>, are exactly what the PDS lists (values and CIDs); a record deleted on the PDS is swept; a repo whose
/// CAR is not signed by its DID's key indexes nothing and is counted.
/// </summary>
[Collection(ChiveAppCollection.Name)]
public sealed class VerifiedSyncTests(ChiveAppFixture fixture)
{
    private ChiveAppFixture Fixture => fixture;

    [Fact]
    public async Task A_repo_read_as_a_signed_CAR_indexes_exactly_what_the_PDS_lists_and_a_deletion_is_swept()
    {
        var network = Fixture.Network;
        await using var proxy = await HttpFaultProxy.StartNewAsync(network.PdsUrls[0]);
        var account = (await network.SeedAsync(0, proxy.BaseAddress, new SeedAccount($"ver{Guid.NewGuid():N}"[..12] + ".test",
        [
            new SeedRecord("pub.chive.eprint.submission", ScanWorld.LexiconSubmission("Verified eprint", null)),
            new SeedRecord("pub.chive.eprint.userTag", new JsonObject { ["eprintUri"] = "at://x", ["tag"] = "one", ["createdAt"] = "2026-03-01T00:00:00Z" }),
            new SeedRecord("pub.chive.eprint.userTag", new JsonObject { ["eprintUri"] = "at://x", ["tag"] = "two", ["createdAt"] = "2026-03-01T00:00:00Z" }),
            new SeedRecord("app.bsky.feed.post", new JsonObject { ["text"] = "not ours", ["createdAt"] = "2026-03-01T00:00:00Z" }),
        ])))[0];
        using var admin = Fixture.CreateAdminClient();

        var synced = await admin.DidSyncAsync(account.Did);

        Assert.Equal(("completed", 3L, "0"), (synced.Status(), synced.Records(), synced.Meta("reposUnverified")));
        Assert.Equal((1, 1, 0, 0), (proxy.CountOf("com.atproto.repo.describeRepo"), proxy.CountOf("com.atproto.sync.getRepo"),
            proxy.CountOf("com.atproto.repo.listRecords"), proxy.CountOf("com.atproto.sync.getLatestCommit")));
        // The revision recorded for the freshness scan is the signed commit's that was read (no getLatestCommit asked).
        var latest = await Chive.Testing.TestClients.Xrpc().GetLatestCommitAsync(network.PdsUrls[0], Chive.AtProto.Identifiers.Did.Parse(account.Did));
        var state = new ScanDatabase(Fixture.DatabaseConnectionString);
        Assert.Equal(latest.Rev, await state.ScalarAsync<string>("SELECT rev FROM repo_sync_state WHERE did = @d", ("d", account.Did)));
        Assert.Equal(latest.Cid.Value, await state.ScalarAsync<string>("SELECT commit_cid FROM repo_sync_state WHERE did = @d", ("d", account.Did)));
        var expected = account.Records.Where(r => ScanWorld.IsChive(r.Uri)).ToDictionary(r => r.Uri, r => r.Cid);
        var db = new ScanDatabase(Fixture.DatabaseConnectionString);
        Assert.Equal(expected.OrderBy(p => p.Key), (await db.LiveRecordsAsync(account.Did)).OrderBy(p => p.Key));
        Assert.Equal(["Verified eprint"], await TitlesAsync(account.Did));

        var tag = account.Records.First(r => r.Uri.Contains("/pub.chive.eprint.userTag/", StringComparison.Ordinal)).Uri;
        await ScanWorld.CallAsUserAsync(network.PdsUrls[0], account, "com.atproto.repo.deleteRecord", new JsonObject
        {
            ["repo"] = account.Did,
            ["collection"] = "pub.chive.eprint.userTag",
            ["rkey"] = tag[(tag.LastIndexOf('/') + 1)..],
        });
        Assert.Equal("completed", (await admin.DidSyncAsync(account.Did)).Status());
        Assert.Equal([tag], await db.DeletedRecordsAsync(account.Did));
    }

    [Fact]
    public async Task A_repo_not_signed_by_its_DIDs_key_indexes_nothing_and_is_counted()
    {
        await using var host = await DidWebHost.StartNewAsync();
        using var named = new ServiceAuthSigner(SigningKeyCurve.P256);
        host.Signer = named;
        host.Document = host.DocumentNaming();
        using var other = new ServiceAuthSigner(SigningKeyCurve.P256);
        host.Signer = other; // the CAR is signed with a key the DID document does not name
        host.Records["pub.chive.eprint.submission"] = new() { ["3kverifyaaaa2"] = ScanWorld.LexiconSubmission("Forged", null) };
        using var admin = Fixture.CreateAdminClient();

        var synced = await admin.DidSyncAsync(host.Did);

        Assert.Equal(("completed", 0L, "1"), (synced.Status(), synced.Records(), synced.Meta("reposUnverified")));
        Assert.Empty(await new ScanDatabase(Fixture.DatabaseConnectionString).LiveRecordsAsync(host.Did));

        host.Signer = named; // signed by its own key: read
        var read = await admin.DidSyncAsync(host.Did);
        Assert.Equal(("completed", 1L, "0"), (read.Status(), read.Records(), read.Meta("reposUnverified")));
        Assert.Single(await new ScanDatabase(Fixture.DatabaseConnectionString).LiveRecordsAsync(host.Did));
    }

    private async Task<List<string>> TitlesAsync(string did)
    {
        await using var connection = new NpgsqlConnection(Fixture.DatabaseConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT title FROM eprints_index WHERE uri LIKE @prefix AND deleted_at IS NULL ORDER BY title", connection);
        command.Parameters.AddWithValue("prefix", $"at://{did}/%");
        var titles = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            titles.Add(reader.GetString(0));
        }

        return titles;
    }
}
