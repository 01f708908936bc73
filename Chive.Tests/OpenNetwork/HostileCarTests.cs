using System.Text.Json.Nodes;
using Chive.AtProto.Identifiers;
using Chive.AtProto.Identity;
using Chive.AtProto.Repo;
using Chive.Testing;
using Chive.Testing.Doubles;
using Chive.Tests.AtProto;
using Chive.Tests.Infrastructure;
using Chive.Tests.PdsScan;

namespace Chive.Tests.OpenNetwork;

/// <summary>
/// A hostile server named as the accounts' PDS that relays the real PDS but rewrites the repo it serves (<c>getRepo</c>)
/// without holding the accounts' signing key — a PDS the account left, a mirror: a record's bytes changed, a record
/// swapped for a forged one under its own CID, the commit's signature altered, the commit re-signed by another key,
/// another account's genuine repo, a CAR cut short, a well-formed repo that omits a record signed by the server's own key.
/// (A PDS that does hold the account's key can sign any repo; nothing tells that apart — docs/open-network.md.)
/// Each time, in verified mode: the sync completes, nothing of the repo is indexed or swept (what we held stays exactly
/// as it was), the repo is counted as unverified, and the PDS is charged one failure with the reason.
/// </summary>
[Collection(ChiveAppCollection.Name)]
public sealed class HostileCarTests(ChiveAppFixture fixture)
{
    private const string Submission = "pub.chive.eprint.submission";

    [Fact]
    public async Task A_PDS_rewriting_the_real_repo_in_any_way_gets_nothing_indexed_or_swept_and_is_charged_a_failure()
    {
        var network = fixture.Network;
        await using var hostile = await HttpFaultProxy.StartNewAsync(network.PdsUrls[0]);
        var accounts = await network.SeedAsync(0, hostile.BaseAddress,
            new SeedAccount($"hcar{Guid.NewGuid():N}"[..13] + ".test",
            [
                new SeedRecord(Submission, ScanWorld.LexiconSubmission("The victim's eprint", null)),
                new SeedRecord(Submission, ScanWorld.LexiconSubmission("The victim's second eprint", null)),
                new SeedRecord("pub.chive.eprint.userTag", new JsonObject { ["eprintUri"] = "at://x", ["tag"] = "kept", ["createdAt"] = "2026-03-01T00:00:00Z" }),
                new SeedRecord("app.bsky.feed.post", new JsonObject { ["text"] = "not ours", ["createdAt"] = "2026-03-01T00:00:00Z" }),
            ]),
            new SeedAccount($"hoth{Guid.NewGuid():N}"[..13] + ".test",
            [
                new SeedRecord(Submission, ScanWorld.LexiconSubmission("Someone else's eprint", null)),
            ]));
        var (victim, other) = (accounts[0], accounts[1]);
        var db = new ScanDatabase(fixture.DatabaseConnectionString);
        using var admin = fixture.CreateAdminClient();

        // First the honest repo: what we hold afterwards is the baseline nothing below may change.
        var honest = await admin.DidSyncAsync(victim.Did);
        Assert.Equal(("completed", 3L, "0"), (honest.Status(), honest.Records(), honest.Meta("reposUnverified")));
        var held = (await db.LiveRecordsAsync(victim.Did)).OrderBy(p => p.Key).ToList();
        Assert.Equal(3, held.Count);

        var real = await DownloadAsync(victim.Did);
        var car = Car.Parse(real);
        var commit = car.Commit();
        var submission = victim.Records.First(r => r.Uri.Contains(Submission, StringComparison.Ordinal));
        var recordBlock = car.Blocks.Single(b => b.Cid.ToString() == submission.Cid);
        var forged = RepoWriter.Encode(ScanWorld.LexiconSubmission("Forged by the PDS", null));
        using var stranger = new ServiceAuthSigner(SigningKeyCurve.Secp256k1);
        var everything = await RepoCar.ReadAsync(new MemoryStream(real), Did.Parse(victim.Did), TestClients.Resolver(network.PlcUrl), "", CancellationToken.None);
        var allButOne = everything.Records.Where(r => r.Rkey != submission.Uri[(submission.Uri.LastIndexOf('/') + 1)..])
            .Select(r => new KeyValuePair<string, JsonObject>($"{r.Collection}/{r.Rkey}", JsonNode.Parse(r.Json!)!.AsObject()));

        (string Case, byte[] Car, string Reason)[] rewrites =
        [
            ("a record's bytes changed under its CID", car.With(recordBlock.Cid, Altered.Flip(recordBlock.Data)).Write(), "does not hash to its CID"),
            ("a record swapped for a forged block under its own CID",
                (car with { Blocks = [.. car.Blocks.Where(b => b.Cid != recordBlock.Cid), (BinaryCid.Of(forged), forged)] }).Write(), "missing from the CAR"),
            ("the commit's signature altered", car.WithCommit(commit.With("sig", Altered.Flip(commit.Bytes("sig")))).Write(), "not signed by the DID's key"),
            ("the commit re-signed by another key", car.WithCommit(commit.With("sig", stranger.SignBytes(commit.Unsigned()))).Write(), "not signed by the DID's key"),
            ("another account's genuine repo", await DownloadAsync(other.Did), $"the commit is for {other.Did}"),
            ("the CAR cut short", real[..(real.Length / 2)], "cut short"),
            ("an MST without one record, signed by the PDS", RepoWriter.Car(victim.Did, everything.Rev, allButOne, stranger), "not signed by the DID's key"),
        ];

        var failures = (await fixture.Registry().GetAsync(hostile.BaseAddress))!.ConsecutiveFailures;
        foreach (var (name, served, reason) in rewrites)
        {
            hostile.Rewrite = (path, body) => path.Contains("com.atproto.sync.getRepo", StringComparison.Ordinal) ? served : body;

            var synced = await admin.DidSyncAsync(victim.Did);

            Assert.True(("completed", 0L, "1") == (synced.Status(), synced.Records(), synced.Meta("reposUnverified")), $"{name}: {synced.ToJsonString()}");
            Assert.Equal(held, (await db.LiveRecordsAsync(victim.Did)).OrderBy(p => p.Key).ToList());
            Assert.Empty(await db.DeletedRecordsAsync(victim.Did));
            var row = (await fixture.Registry().GetAsync(hostile.BaseAddress))!;
            Assert.True(row.ConsecutiveFailures == ++failures, $"{name}: {row.ConsecutiveFailures} failures, expected {failures}");
            Assert.True(row.LastError?.Contains(reason, StringComparison.Ordinal) == true, $"{name}: '{row.LastError}' does not say '{reason}'");
        }

        Assert.Equal("unreachable", (await fixture.Registry().GetAsync(hostile.BaseAddress))!.Status); // 7 failures; 5 make it unreachable
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM eprints_index WHERE title = 'Forged by the PDS'"));

        // The real repo again: read as before.
        hostile.Rewrite = null;
        var again = await admin.DidSyncAsync(victim.Did);
        Assert.Equal(("completed", 3L, "0"), (again.Status(), again.Records(), again.Meta("reposUnverified")));
    }

    private async Task<byte[]> DownloadAsync(string did)
    {
        await using var stream = await TestClients.Xrpc().GetRepoAsync(fixture.Network.PdsUrls[0], Did.Parse(did));
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }
}
