using System.Text.Json.Nodes;
using Chive.AtProto.Identifiers;
using Chive.AtProto.Identity;
using Chive.Testing;
using Chive.Testing.Doubles;

namespace Chive.UnitTests.AtProto;

public sealed class DidWebResolutionTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>A secp256k1 multikey: base58btc of 0xe7 0x01 (secp256k1-pub) + a compressed point (0x02 + 32 bytes).</summary>
    private static readonly string Secp256k1Key = "z" + Base58([0xe7, 0x01, 0x02, .. Enumerable.Range(1, 32).Select(i => (byte)(i * 7))]);

    private DidWebHost _host = null!;

    public async Task InitializeAsync() => _host = await DidWebHost.StartNewAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task A_did_web_document_resolves_to_its_PDS_handle_and_key()
    {
        _host.Document = Document(_host.Did).ToJsonString();

        var identity = await Resolver().ResolveAsync(Did.Parse(_host.Did)).WaitAsync(Timeout);

        Assert.Equal("http://127.0.0.1:2583/", identity.PdsEndpoint.ToString());
        Assert.Equal("alice.example.test", identity.Handle?.Value);
        Assert.Equal(SigningKeyCurve.Secp256k1, identity.SigningKey?.Curve);
    }

    [Fact]
    public async Task A_malformed_document_is_a_typed_failure()
    {
        _host.Document = "{ \"id\": \"did:web:";
        var error = await Assert.ThrowsAsync<DidResolutionException>(() => Resolver().ResolveAsync(Did.Parse(_host.Did)).WaitAsync(Timeout));
        Assert.Equal(DidResolutionError.MalformedDocument, error.Error);
    }

    [Fact]
    public async Task A_document_without_a_PDS_service_is_a_typed_failure()
    {
        var document = Document(_host.Did);
        document["service"] = new JsonArray(new JsonObject
        {
            ["id"] = "#atproto_labeler",
            ["type"] = "AtprotoLabeler",
            ["serviceEndpoint"] = "https://labeler.example.test",
        });
        _host.Document = document.ToJsonString();

        var error = await Assert.ThrowsAsync<DidResolutionException>(() => Resolver().ResolveAsync(Did.Parse(_host.Did)).WaitAsync(Timeout));

        Assert.Equal(DidResolutionError.NoPdsEndpoint, error.Error);
        Assert.Contains("#atproto_pds", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_document_for_another_DID_is_a_typed_failure()
    {
        _host.Document = Document("did:web:someone-else.example.test").ToJsonString();
        var error = await Assert.ThrowsAsync<DidResolutionException>(() => Resolver().ResolveAsync(Did.Parse(_host.Did)).WaitAsync(Timeout));
        Assert.Equal(DidResolutionError.WrongId, error.Error);
    }

    [Fact]
    public async Task A_missing_document_is_NotFound_and_the_failure_is_cached_briefly()
    {
        _host.Document = null;
        var resolver = Resolver();

        var first = await Assert.ThrowsAsync<DidResolutionException>(() => resolver.ResolveAsync(Did.Parse(_host.Did)).WaitAsync(Timeout));
        await Assert.ThrowsAsync<DidResolutionException>(() => resolver.ResolveAsync(Did.Parse(_host.Did)).WaitAsync(Timeout));

        Assert.Equal(DidResolutionError.NotFound, first.Error);
        Assert.Equal(1, _host.Fetches);
    }

    [Fact]
    public async Task A_PDS_endpoint_on_a_private_address_is_refused()
    {
        var document = Document(_host.Did);
        document["service"]![0]!["serviceEndpoint"] = "http://10.1.2.3";
        _host.Document = document.ToJsonString();

        var error = await Assert.ThrowsAsync<DidResolutionException>(() => Resolver().ResolveAsync(Did.Parse(_host.Did)).WaitAsync(Timeout));

        Assert.Equal(DidResolutionError.Refused, error.Error);
        Assert.Contains("10.1.2.3", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resolutions_are_cached()
    {
        _host.Document = Document(_host.Did).ToJsonString();
        var resolver = Resolver();

        await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => resolver.ResolveAsync(Did.Parse(_host.Did))));
        await resolver.ResolveAsync(Did.Parse(_host.Did)).WaitAsync(Timeout);

        Assert.Equal(1, _host.Fetches);
    }

    private static string Base58(byte[] bytes)
    {
        const string alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
        var value = new System.Numerics.BigInteger(bytes, isUnsigned: true, isBigEndian: true);
        var text = new System.Text.StringBuilder();
        while (value > 0)
        {
            text.Insert(0, alphabet[(int)(value % 58)]);
            value /= 58;
        }

        return new string('1', bytes.TakeWhile(b => b == 0).Count()) + text;
    }

    private static DidResolver Resolver() =>
        TestClients.Resolver(new Uri("http://127.0.0.1:9/"), options => options.DidWebScheme = "http");

    private static JsonObject Document(string id) => new()
    {
        ["@context"] = new JsonArray("https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"),
        ["id"] = id,
        ["alsoKnownAs"] = new JsonArray("at://alice.example.test"),
        ["verificationMethod"] = new JsonArray(new JsonObject
        {
            ["id"] = id + "#atproto",
            ["type"] = "Multikey",
            ["controller"] = id,
            ["publicKeyMultibase"] = Secp256k1Key,
        }),
        ["service"] = new JsonArray(new JsonObject
        {
            ["id"] = "#atproto_pds",
            ["type"] = "AtprotoPersonalDataServer",
            ["serviceEndpoint"] = "http://127.0.0.1:2583",
        }),
    };
}
