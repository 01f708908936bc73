using System.Text.Json.Nodes;
using Chive.AtProto.Identifiers;
using Chive.AtProto.Identity;
using Chive.AtProto.Repo;
using Chive.Testing;
using Chive.Testing.Doubles;

namespace Chive.UnitTests.AtProto;

/// <summary>
/// The did:web double's signed repo (<see cref="RepoWriter"/>) read by <see cref="RepoCar"/>: the same records and CIDs
/// its <c>listRecords</c> answers, and refused once its key is not the one its DID document names.
/// </summary>
public sealed class SignedRepoDoubleTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private DidWebHost _host = null!;

    public async Task InitializeAsync()
    {
        _host = await DidWebHost.StartNewAsync();
        _host.Signer = new ServiceAuthSigner(SigningKeyCurve.Secp256k1);
        _host.Document = _host.DocumentNaming();
        _host.Records["pub.chive.eprint.submission"] = new()
        {
            ["3kaaaaaaaaaa2"] = new JsonObject
            {
                ["$type"] = "pub.chive.eprint.submission",
                ["title"] = "Signed by a double",
                ["checksum"] = new JsonObject { ["$bytes"] = "3q2+7w" },
                ["previous"] = new JsonObject { ["$link"] = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm" },
                ["authors"] = new JsonArray(new JsonObject { ["name"] = "Ada", ["order"] = 1 }),
            },
        };
        _host.Records["pub.chive.eprint.userTag"] = new()
        {
            ["3kaaaaaaaaab2"] = new JsonObject { ["tag"] = "one", ["weight"] = -3 },
            ["3kaaaaaaaaac2"] = new JsonObject { ["tag"] = "two", ["flag"] = true, ["none"] = null },
        };
        _host.Records["app.bsky.feed.post"] = new() { ["3kaaaaaaaaad2"] = new JsonObject { ["text"] = "not ours" } };
    }

    public async Task DisposeAsync()
    {
        _host.Signer?.Dispose();
        await _host.DisposeAsync();
    }

    [Fact]
    public async Task The_doubles_CAR_holds_exactly_its_listed_chive_records_with_their_CIDs()
    {
        var did = Did.Parse(_host.Did);
        var xrpc = TestClients.Xrpc();
        await using var car = await xrpc.GetRepoAsync(_host.BaseAddress, did).WaitAsync(Timeout);

        var repo = await RepoCar.ReadAsync(car, did, Resolver(), "pub.chive.", CancellationToken.None).WaitAsync(Timeout);

        var listed = new List<RecordEntryView>();
        foreach (var collection in new[] { "pub.chive.eprint.submission", "pub.chive.eprint.userTag" })
        {
            await foreach (var record in xrpc.ListAllRecordsAsync(_host.BaseAddress, did, Nsid.Parse(collection)))
            {
                listed.Add(new(record.Uri.Value, record.Cid.Value, JsonNode.Parse(record.Value.GetRawText())!));
            }
        }

        Assert.Equal(3, repo.Records.Count);
        Assert.Equal(_host.Rev, repo.Rev);
        foreach (var record in repo.Records)
        {
            var match = Assert.Single(listed, l => l.Uri == $"at://{did.Value}/{record.Collection}/{record.Rkey}");
            Assert.Equal(match.Cid, record.Cid);
            Assert.True(JsonNode.DeepEquals(match.Value, record.Json is null ? null : JsonNode.Parse(record.Json)), $"{match.Value.ToJsonString()} vs {record.Json ?? record.Problem}");
        }
    }

    [Fact]
    public async Task A_signed_record_the_data_model_cannot_hold_is_one_rejected_record_not_a_refused_repo()
    {
        JsonNode deep = new JsonObject { ["leaf"] = true };
        for (var i = 0; i < 80; i++)
        {
            deep = new JsonObject { ["n"] = deep };
        }

        _host.Records["pub.chive.eprint.userTag"]["3kaaaaaaaaae2"] = new JsonObject { ["tag"] = "deep", ["x"] = deep };
        var did = Did.Parse(_host.Did);
        await using var car = await TestClients.Xrpc().GetRepoAsync(_host.BaseAddress, did).WaitAsync(Timeout);

        var repo = await RepoCar.ReadAsync(car, did, Resolver(), "pub.chive.", CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal(4, repo.Records.Count);
        var poison = Assert.Single(repo.Records, r => r.Json is null);
        Assert.Equal(("3kaaaaaaaaae2", "nested deeper than 64"), (poison.Rkey, poison.Problem));
    }

    [Fact]
    public async Task A_CAR_signed_with_a_key_the_document_does_not_name_is_refused()
    {
        var did = Did.Parse(_host.Did);
        _host.Signer = new ServiceAuthSigner(SigningKeyCurve.Secp256k1); // the document still names the first key
        await using var car = await TestClients.Xrpc().GetRepoAsync(_host.BaseAddress, did).WaitAsync(Timeout);

        var error = await Assert.ThrowsAsync<RepoVerificationException>(() => RepoCar.ReadAsync(car, did, Resolver(), "pub.chive.", CancellationToken.None));

        Assert.Equal("the commit is not signed by the DID's key", error.Message);
        Assert.Equal(2, _host.Fetches); // the document was fetched once more (a rotated key?) before the repo was refused
    }

    private static DidResolver Resolver() => TestClients.Resolver(new Uri("http://127.0.0.1:9/"), options => options.DidWebScheme = "http");

    private sealed record RecordEntryView(string Uri, string Cid, JsonNode Value);
}
