using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Chive.AtProto.Identifiers;
using Chive.AtProto.Repo;
using Chive.AtProto.Xrpc;
using Chive.Testing;
using Chive.Tests.Infrastructure;

namespace Chive.Tests.AtProto;

/// <summary>
/// Repos read as signed CAR files (<see cref="RepoCar"/>) from the real reference PDS: every <c>pub.chive.*</c> record
/// equals what <c>listRecords</c> answers (value and CID) — blobs, bytes and links included, Bluesky records skipped —
/// and a CAR altered in any way is refused with its reason.
/// </summary>
[Collection(AtprotoNetworkCollection.Name)]
public sealed class RepoCarTests(AtprotoNetworkFixture fixture)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private Uri Pds => fixture.Network.PdsUrls[0];

    [Fact]
    public async Task Every_chive_record_read_from_the_CAR_equals_the_listed_one_with_blobs_bytes_and_links()
    {
        var accounts = await SeedAsync("car", 3);
        var xrpc = TestClients.Xrpc();
        var resolver = TestClients.Resolver(fixture.Network.PlcUrl);
        var compared = 0;
        foreach (var account in accounts)
        {
            var did = Did.Parse(account.Did);
            await using var car = await xrpc.GetRepoAsync(Pds, did).WaitAsync(Timeout);
            var repo = await RepoCar.ReadAsync(car, did, resolver, "pub.chive.", CancellationToken.None).WaitAsync(Timeout);

            var listed = new List<RecordEntry>();
            foreach (var collection in (await xrpc.DescribeRepoAsync(Pds, did)).Collections.Where(c => c.Value.StartsWith("pub.chive.", StringComparison.Ordinal)))
            {
                await foreach (var record in xrpc.ListAllRecordsAsync(Pds, did, collection))
                {
                    listed.Add(record);
                }
            }

            Assert.Equal(listed.Select(r => r.Uri.Value).Order(StringComparer.Ordinal),
                repo.Records.Select(r => $"at://{did.Value}/{r.Collection}/{r.Rkey}").Order(StringComparer.Ordinal));
            foreach (var record in listed)
            {
                var fromCar = repo.Records.Single(r => $"at://{did.Value}/{r.Collection}/{r.Rkey}" == record.Uri.Value);
                Assert.Equal(record.Cid.Value, fromCar.Cid);
                Assert.True(JsonNode.DeepEquals(JsonNode.Parse(record.Value.GetRawText()), fromCar.Json is null ? null : JsonNode.Parse(fromCar.Json)),
                    $"{record.Uri}: listRecords {record.Value.GetRawText()} but the CAR {fromCar.Json ?? fromCar.Problem}");
                compared++;
            }

            Assert.DoesNotContain(repo.Records, r => r.Collection.StartsWith("app.bsky", StringComparison.Ordinal));
            Assert.Matches("^[a-z0-9]+$", repo.Rev);

            // With no prefix the walk takes every key of the tree, whatever its depth: the same Chive records and the ten posts.
            await using var again = await xrpc.GetRepoAsync(Pds, did).WaitAsync(Timeout);
            var everything = await RepoCar.ReadAsync(again, did, resolver, "", CancellationToken.None).WaitAsync(Timeout);
            Assert.Equal(repo.Records.Select(r => $"{r.Collection}/{r.Rkey}").Order(StringComparer.Ordinal),
                everything.Records.Where(r => r.Collection.StartsWith("pub.chive.", StringComparison.Ordinal)).Select(r => $"{r.Collection}/{r.Rkey}").Order(StringComparer.Ordinal));
            Assert.Equal(10, everything.Records.Count(r => r.Collection == "app.bsky.feed.post"));
        }

        Assert.True(compared >= 3 * 6, $"only {compared} records compared");
    }

    [Fact]
    public async Task A_CAR_altered_in_any_way_is_refused_saying_why()
    {
        var account = (await SeedAsync("bad", 1))[0];
        var did = Did.Parse(account.Did);
        var resolver = TestClients.Resolver(fixture.Network.PlcUrl);
        byte[] car;
        await using (var stream = await TestClients.Xrpc().GetRepoAsync(Pds, did))
        {
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            car = copy.ToArray();
        }

        async Task<string> RefusedAsync(byte[] bytes, Did? asFor = null)
        {
            var error = await Assert.ThrowsAsync<RepoVerificationException>(() =>
                RepoCar.ReadAsync(new MemoryStream(bytes), asFor ?? did, resolver, "pub.chive.", CancellationToken.None));
            return error.Message;
        }

        var original = Car.Parse(car);
        Assert.Equal(6, (await RepoCar.ReadAsync(new MemoryStream(car), did, resolver, "pub.chive.", CancellationToken.None)).Records.Count);

        // A record block's bytes changed: its CID no longer matches.
        var record = original.Blocks.Last(b => b.Cid != original.Root);
        Assert.Contains("does not hash to its CID", await RefusedAsync(original.With(record.Cid, Altered.Flip(record.Data)).Write()), StringComparison.Ordinal);

        // Truncated.
        Assert.Contains("cut short", await RefusedAsync(car[..(car.Length - 10)]), StringComparison.Ordinal);

        // The commit's signature altered (the block re-addressed, so every CID matches).
        var commit = original.Commit();
        var badSignature = original.WithCommit(commit.With("sig", Altered.Flip(commit.Bytes("sig"))));
        Assert.Contains("not signed by the DID's key", await RefusedAsync(badSignature.Write()), StringComparison.Ordinal);

        // Signed by another key: a valid signature, by a key that is not the DID's.
        using var stranger = new ServiceAuthSigner(Chive.AtProto.Identity.SigningKeyCurve.Secp256k1);
        var resigned = original.WithCommit(commit.With("sig", stranger.SignBytes(commit.Unsigned())));
        Assert.Contains("not signed by the DID's key", await RefusedAsync(resigned.Write()), StringComparison.Ordinal);

        // A genuine repo presented as another DID's.
        var other = (await SeedAsync("oth", 1))[0];
        Assert.Contains($"the commit is for {did.Value}", await RefusedAsync(car, Did.Parse(other.Did)), StringComparison.Ordinal);

        // The commit's data pointed at a tree the CAR does not hold.
        var missing = original.WithCommit(commit.WithLink("data", original.Blocks.Last().Cid with { Digest = new byte[32] }));
        Assert.Contains("not signed by the DID's key", await RefusedAsync(missing.Write()), StringComparison.Ordinal);
    }


    /// <summary>Accounts with six Chive records each — a submission with a PDF blob, one with bytes and a link, four tags — and ten Bluesky posts.</summary>
    private async Task<IReadOnlyList<SeededAccount>> SeedAsync(string prefix, int count)
    {
        var accounts = await fixture.Network.SeedAsync(0, [.. Enumerable.Range(0, count).Select(i => new SeedAccount($"{prefix}{i}{Guid.NewGuid():N}"[..14] + ".test",
        [
            new SeedRecord("pub.chive.eprint.submission", new JsonObject
            {
                ["$type"] = "pub.chive.eprint.submission",
                ["title"] = "Bytes and links",
                ["checksum"] = new JsonObject { ["$bytes"] = "3q2+7w" },
                ["previous"] = new JsonObject { ["$link"] = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm" },
                ["createdAt"] = "2026-11-01T00:00:00Z",
            }),
            .. Enumerable.Range(0, 4).Select(t => new SeedRecord("pub.chive.eprint.userTag", new JsonObject
            {
                ["eprintUri"] = "at://did:plc:aaaaaaaaaaaaaaaaaaaaaaaa/pub.chive.eprint.submission/x",
                ["tag"] = $"tag {t} ünïcode",
                ["weight"] = -t,
                ["createdAt"] = "2026-11-01T00:00:00Z",
            })),
            .. Enumerable.Range(0, 10).Select(p => new SeedRecord("app.bsky.feed.post", new JsonObject { ["text"] = $"post {p}", ["createdAt"] = "2026-11-01T00:00:00Z" })),
        ]))]);
        foreach (var account in accounts)
        {
            using var user = new HttpClient { BaseAddress = Pds };
            user.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", account.AccessJwt);
            using var content = new ByteArrayContent("%PDF-1.4\n%%EOF\n"u8.ToArray());
            content.Headers.ContentType = new MediaTypeHeaderValue("application/pdf");
            using var uploaded = await user.PostAsync("/xrpc/com.atproto.repo.uploadBlob", content);
            var blob = (await uploaded.Content.ReadFromJsonAsync<JsonObject>())!["blob"]!.DeepClone();
            using var written = await user.PostAsJsonAsync("/xrpc/com.atproto.repo.createRecord", new JsonObject
            {
                ["repo"] = account.Did,
                ["collection"] = "pub.chive.eprint.submission",
                ["validate"] = false,
                ["record"] = new JsonObject { ["$type"] = "pub.chive.eprint.submission", ["title"] = "With a PDF", ["document"] = blob, ["createdAt"] = "2026-11-01T00:00:00Z" },
            });
            Assert.True(written.IsSuccessStatusCode, await written.Content.ReadAsStringAsync());
        }

        return accounts;
    }
}
