using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Chive.Testing.Doubles;

/// <summary>
/// A did:web host of the test's own: serves <see cref="Document"/> at <c>/.well-known/did.json</c> over plain HTTP on
/// loopback (the resolver is configured with <c>DidWebScheme=http</c> for it). It can also play the PDS of its own
/// DID — or of <see cref="Hosts"/>, another host's did:web, after that one moved here — for a scan: <c>describeRepo</c>,
/// <c>listRecords</c> of <see cref="Records"/> (one page, no cursor) and <c>getLatestCommit</c> (a revision derived from
/// the records, so it changes when they do), and <c>getRepo</c>, a CAR signed with <see cref="Signer"/> (one MST node;
/// records' CIDs are their real DAG-CBOR CIDs, in listRecords too), since the reference PDS cannot host a
/// did:web account without a real domain. It checks nothing else of those calls (no pagination, no limit, no other
/// repo, no <c>since</c>) and serves nothing else.
/// </summary>
public sealed class DidWebHost : HttpDouble
{
    /// <summary>The body served (any text, so tests can serve broken documents); null answers 404.</summary>
    public string? Document { get; set; }

    public int Fetches { get; private set; }

    /// <summary>How many times its repo was asked for (<c>getRepo</c>).</summary>
    public int RepoDownloads { get; private set; }

    /// <summary>The repo's records (collection → values by record key) served when this host plays its DID's PDS.</summary>
    public Dictionary<string, Dictionary<string, System.Text.Json.Nodes.JsonObject>> Records { get; } = [];

    /// <summary>Delay before each listRecords and getRepo answer (to keep a sync running for a while).</summary>
    public TimeSpan ListDelay { get; set; }

    public string Did => $"did:web:localhost%3A{Port}";

    /// <summary>
    /// The repo's signing key (a fresh P-256 key unless a test sets another): <see cref="DocumentNaming"/> names the key set
    /// at the time as <c>#atproto</c>, and <c>getRepo</c> serves the records as a CAR signed with the key set now
    /// (<see cref="RepoWriter"/>) — set another after the document was made, and the CAR is signed by a stranger.
    /// </summary>
    public ServiceAuthSigner Signer { get; set; } = new(Chive.AtProto.Identity.SigningKeyCurve.P256);

    /// <summary>The DID whose repo this host serves as its PDS (its own, unless a test moves another one here).</summary>
    public string? Hosts { get; set; }

    private string Served => Hosts ?? Did;

    /// <summary>A DID document for this host's DID naming <paramref name="pds"/> as its PDS (null: this host itself).</summary>
    public string DocumentNaming(string? pds = null)
    {
        var document = new System.Text.Json.Nodes.JsonObject
        {
            ["@context"] = new System.Text.Json.Nodes.JsonArray("https://www.w3.org/ns/did/v1"),
            ["id"] = Did,
            ["service"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject
            {
                ["id"] = "#atproto_pds",
                ["type"] = "AtprotoPersonalDataServer",
                ["serviceEndpoint"] = pds ?? BaseAddress.ToString().TrimEnd('/'),
            }),
        };
        document["verificationMethod"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject
        {
            ["id"] = Did + "#atproto",
            ["type"] = "Multikey",
            ["controller"] = Did,
            ["publicKeyMultibase"] = Signer.Multikey,
        });

        return document.ToJsonString();
    }

    public static async Task<DidWebHost> StartNewAsync()
    {
        var host = new DidWebHost();
        await host.StartAsync();
        return host;
    }

    protected override void Map(WebApplication app)
    {
        app.MapGet("/.well-known/did.json", () =>
        {
            Fetches++;
            return Document is null ? Results.NotFound() : Results.Text(Document, "application/json");
        });
        app.MapGet("/xrpc/com.atproto.repo.describeRepo", (string repo) => repo != Served
            ? Results.Json(new { error = "InvalidRequest", message = $"Could not find repo: {repo}" }, statusCode: 400)
            : Results.Json(new { handle = "handle.invalid", did = Served, didDoc = new { }, collections = Records.Keys.Order().ToArray(), handleIsCorrect = false }));
        app.MapGet("/xrpc/com.atproto.sync.getLatestCommit", (string did) => did != Served
            ? Results.Json(new { error = "RepoNotFound", message = $"Could not find repo for DID: {did}" }, statusCode: 400)
            : Results.Json(new { cid = CidOf(new System.Text.Json.Nodes.JsonObject { ["rev"] = Rev }), rev = Rev }));
        app.MapGet("/xrpc/com.atproto.sync.getRepo", async (string did) =>
        {
            RepoDownloads++;
            await Task.Delay(ListDelay);
            return did != Served
                ? Results.Json(new { error = "RepoNotFound", message = $"Could not find repo for DID: {did}" }, statusCode: 400)
                : Results.Bytes(RepoWriter.Car(Served, Rev, Records.SelectMany(c => c.Value.Select(r =>
                    new KeyValuePair<string, System.Text.Json.Nodes.JsonObject>($"{c.Key}/{r.Key}", r.Value))), Signer), "application/vnd.ipld.car");
        });
        app.MapGet("/xrpc/com.atproto.repo.listRecords", async (string repo, string collection) =>
        {
            await Task.Delay(ListDelay);
            var records = repo == Served && Records.TryGetValue(collection, out var values) ? values : [];
            return Results.Json(new
            {
                records = records.Select(r => new
                {
                    uri = $"at://{Served}/{collection}/{r.Key}",
                    cid = CidOf(r.Value),
                    value = r.Value,
                }),
            });
        });
    }

    /// <summary>The repo's revision: a hash of its records, so it changes exactly when they do.</summary>
    public string Rev => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(
        string.Join("\n", Records.OrderBy(c => c.Key, StringComparer.Ordinal).SelectMany(c => c.Value.OrderBy(r => r.Key, StringComparer.Ordinal)
            .Select(r => $"{c.Key}/{r.Key} {r.Value.ToJsonString()}"))))))[..13];

    /// <summary>The value's real CID: SHA-256 of its DAG-CBOR encoding (the same in listRecords and in getRepo's CAR).</summary>
    private static string CidOf(System.Text.Json.Nodes.JsonObject value) => Chive.AtProto.Repo.BinaryCid.Of(RepoWriter.Encode(value)).ToString();
}
