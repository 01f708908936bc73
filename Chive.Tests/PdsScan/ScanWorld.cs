using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Chive.AtProto.Net;
using Chive.Testing.Doubles;
using Chive.Tests.Infrastructure;
using Npgsql;

namespace Chive.Tests.PdsScan;

/// <summary>
/// Three real PDSes on the fixture's PLC directory, each behind a request-logging <see cref="HttpFaultProxy"/> that
/// shares one <see cref="InFlightMeter"/>:
/// A — alice (3 submissions in lexicon and legacy form, 260 user tags: three pages, 2 review comments, 5 app.bsky
/// posts that must be ignored) and bob (a profile and an endorsement);
/// B — carol (2 submissions, one malformed submission without a title, one eprint.version) and dave (2 submissions,
/// then deactivated by dave's own client);
/// C — erin and frank, with app.bsky posts only.
/// Built once per test run (the PDSes live as long as the fixture's network).
/// </summary>
public sealed class ScanWorld
{
    public const int AliceTags = 260;

    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static readonly Dictionary<ChiveAppFixture, ScanWorld> Worlds = [];

    public required HttpFaultProxy A { get; init; }
    public required HttpFaultProxy B { get; init; }
    public required HttpFaultProxy C { get; init; }
    public required InFlightMeter Meter { get; init; }
    public required SeededAccount Alice { get; init; }
    public required SeededAccount Bob { get; init; }
    public required SeededAccount Carol { get; init; }
    public required SeededAccount Dave { get; init; }
    public required SeededAccount Erin { get; init; }
    public required SeededAccount Frank { get; init; }
    public required Uri PdsA { get; init; }
    public required Uri PdsB { get; init; }

    /// <summary>The valid pub.chive records that a complete scan must index (URI → CID).</summary>
    public IReadOnlyDictionary<string, string> ExpectedRecords =>
        new[] { Alice, Bob, Carol }.SelectMany(a => a.Records).Where(r => IsChive(r.Uri) && !r.Uri.EndsWith("/malformed", StringComparison.Ordinal))
            .ToDictionary(r => r.Uri, r => r.Cid);

    public IReadOnlyList<string> ExpectedEprints =>
        ExpectedRecords.Keys.Where(u => u.Contains("/pub.chive.eprint.submission/", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();

    public static async Task<ScanWorld> GetAsync(ChiveAppFixture fixture)
    {
        await Gate.WaitAsync();
        try
        {
            if (!Worlds.TryGetValue(fixture, out var world))
            {
                Worlds[fixture] = world = await CreateAsync(fixture.Network);
            }

            return world;
        }
        finally
        {
            Gate.Release();
        }
    }

    public static string Origin(HttpFaultProxy proxy) => ServiceOrigin.Normalize(proxy.BaseAddress);

    public static bool IsChive(string uri) => uri.Contains("/pub.chive.", StringComparison.Ordinal);

    private static async Task<ScanWorld> CreateAsync(AtprotoTestNetwork network)
    {
        var pdsA = await network.AddPdsAsync();
        var pdsB = await network.AddPdsAsync();
        var pdsC = await network.AddPdsAsync();
        var index = network.PdsUrls.Count - 3;
        // Chive reads each PDS through its proxy, so the accounts' DID documents name the proxy as their PDS.
        var (proxyA, proxyB, proxyC) = (await HttpFaultProxy.StartNewAsync(pdsA), await HttpFaultProxy.StartNewAsync(pdsB), await HttpFaultProxy.StartNewAsync(pdsC));

        var alice = new List<SeedRecord>
        {
            new("pub.chive.eprint.submission", LexiconSubmission("Quantum gravity in a box", "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa")),
            new("pub.chive.eprint.submission", LegacySubmission("Legacy fields still index")),
            new("pub.chive.eprint.submission", LexiconSubmission("Another lexicon eprint", null)),
            new("pub.chive.review.comment", Comment()),
            new("pub.chive.review.comment", Comment()),
        };
        alice.AddRange(Enumerable.Range(0, AliceTags).Select(i => new SeedRecord("pub.chive.eprint.userTag", new JsonObject
        {
            ["eprintUri"] = "at://did:plc:aaaaaaaaaaaaaaaaaaaaaaaa/pub.chive.eprint.submission/3kaaaaaaaaaaa",
            ["tag"] = $"tag-{i}",
            ["createdAt"] = "2026-03-01T00:00:00Z",
        })));
        alice.AddRange(Enumerable.Range(0, 5).Select(i => new SeedRecord("app.bsky.feed.post", Post(i))));

        var seededA = await network.SeedAsync(index, proxyA.BaseAddress,
            new SeedAccount("alice-scan.test", alice),
            new SeedAccount("bob-scan.test",
            [
                new("pub.chive.actor.profile", new JsonObject { ["displayName"] = "Bob", ["createdAt"] = "2026-03-01T00:00:00Z" }, "self"),
                new("pub.chive.review.endorsement", new JsonObject
                {
                    ["eprintUri"] = "at://did:plc:aaaaaaaaaaaaaaaaaaaaaaaa/pub.chive.eprint.submission/3kaaaaaaaaaaa",
                    ["contributions"] = new JsonArray("methodological"),
                    ["createdAt"] = "2026-03-01T00:00:00Z",
                }),
            ]));
        var seededB = await network.SeedAsync(index + 1, proxyB.BaseAddress,
            new SeedAccount("carol-scan.test",
            [
                new("pub.chive.eprint.submission", LexiconSubmission("Carol's first", null)),
                new("pub.chive.eprint.submission", LegacySubmission("Carol's second")),
                new("pub.chive.eprint.submission", new JsonObject { ["abstract"] = "no title", ["createdAt"] = "2026-03-01T00:00:00Z" }, "malformed"),
                new("pub.chive.eprint.version", new JsonObject { ["eprintUri"] = "at://x", ["versionNumber"] = 2, ["changes"] = "typos", ["createdAt"] = "2026-03-01T00:00:00Z" }),
            ]),
            new SeedAccount("dave-scan.test",
            [
                new("pub.chive.eprint.submission", LexiconSubmission("Dave's, deactivated", null)),
                new("pub.chive.eprint.submission", LexiconSubmission("Dave's other", null)),
            ]));
        var seededC = await network.SeedAsync(index + 2, proxyC.BaseAddress,
            new SeedAccount("erin-scan.test", [new("app.bsky.feed.post", Post(1))]),
            new SeedAccount("frank-scan.test", [new("app.bsky.feed.post", Post(2)), new("app.bsky.actor.profile", new JsonObject { ["displayName"] = "Frank" }, "self")]));

        // Dave deactivates his own account (the test plays his client; Chive never writes to a PDS).
        await CallAsUserAsync(pdsB, seededB[1], "com.atproto.server.deactivateAccount", new JsonObject());

        var meter = new InFlightMeter();
        var world = new ScanWorld
        {
            A = proxyA,
            B = proxyB,
            C = proxyC,
            Meter = meter,
            Alice = seededA[0],
            Bob = seededA[1],
            Carol = seededB[0],
            Dave = seededB[1],
            Erin = seededC[0],
            Frank = seededC[1],
            PdsA = pdsA,
            PdsB = pdsB,
        };
        world.A.Meter = world.B.Meter = world.C.Meter = meter;
        return world;
    }

    /// <summary>A write by the account's own client, straight to its PDS (not through the proxies Chive reads).</summary>
    public static async Task CallAsUserAsync(Uri pds, SeededAccount account, string nsid, JsonObject body)
    {
        using var client = new HttpClient { BaseAddress = pds };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", account.AccessJwt);
        using var response = await client.PostAsJsonAsync($"/xrpc/{nsid}", body);
        Assert.True(response.IsSuccessStatusCode, $"{nsid} as {account.Handle}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    public static JsonObject LexiconSubmission(string title, string? authorDid) => new()
    {
        ["$type"] = "pub.chive.eprint.submission",
        ["title"] = title,
        ["abstract"] = new JsonArray(new JsonObject { ["type"] = "text", ["content"] = $"Abstract of {title}." }),
        ["authors"] = new JsonArray(authorDid is null
            ? new JsonObject { ["name"] = "Ada Author", ["order"] = 1 }
            : new JsonObject { ["did"] = authorDid, ["name"] = "Ada Author", ["order"] = 1 }),
        ["fieldUris"] = new JsonArray("at://did:plc:aaaaaaaaaaaaaaaaaaaaaaaa/pub.chive.graph.node/physics"),
        ["keywords"] = new JsonArray("physics", "gravity"),
        ["licenseSlug"] = "CC-BY-4.0",
        ["createdAt"] = "2026-03-01T00:00:00Z",
    };

    public static JsonObject LegacySubmission(string title) => new()
    {
        ["title"] = title,
        ["abstract"] = $"Plain abstract of {title}.",
        ["authors"] = new JsonArray(new JsonObject { ["name"] = "Lee Legacy" }),
        ["fieldNodes"] = new JsonArray(new JsonObject { ["uri"] = "at://did:plc:aaaaaaaaaaaaaaaaaaaaaaaa/pub.chive.graph.node/biology", ["label"] = "Biology" }),
        ["license"] = "MIT",
        ["doi"] = "10.1234/legacy",
        ["createdAt"] = "2026-02-01T00:00:00Z",
    };

    private static JsonObject Comment() => new()
    {
        ["eprintUri"] = "at://did:plc:aaaaaaaaaaaaaaaaaaaaaaaa/pub.chive.eprint.submission/3kaaaaaaaaaaa",
        ["body"] = new JsonArray(new JsonObject { ["type"] = "text", ["content"] = "Nice." }),
        ["createdAt"] = "2026-03-01T00:00:00Z",
    };

    private static JsonObject Post(int i) => new() { ["text"] = $"post {i}", ["createdAt"] = "2026-03-01T00:00:00Z" };
}

/// <summary>Reads of the test's database, for assertions.</summary>
public sealed class ScanDatabase(string connectionString)
{
    public async Task<Dictionary<string, string>> LiveRecordsAsync(params string[] dids) =>
        await PairsAsync("SELECT uri, cid FROM indexed_records WHERE did = ANY(@dids) AND deleted_at IS NULL", dids);

    public async Task<List<string>> LiveEprintsAsync(params string[] dids) =>
        (await PairsAsync("SELECT uri, cid FROM eprints_index WHERE submitted_by = ANY(@dids) AND deleted_at IS NULL", dids)).Keys.Order(StringComparer.Ordinal).ToList();

    public async Task<List<string>> DeletedRecordsAsync(params string[] dids) =>
        (await PairsAsync("SELECT uri, deletion_source FROM indexed_records WHERE did = ANY(@dids) AND deleted_at IS NOT NULL", dids)).Keys.Order(StringComparer.Ordinal).ToList();

    public async Task ExecuteAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        await command.ExecuteNonQueryAsync();
    }

    public async Task<T> ScalarAsync<T>(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return (T)(await command.ExecuteScalarAsync())!;
    }

    private async Task<Dictionary<string, string>> PairsAsync(string sql, string[] dids)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("dids", dids);
        await using var reader = await command.ExecuteReaderAsync();
        var pairs = new Dictionary<string, string>(StringComparer.Ordinal);
        while (await reader.ReadAsync())
        {
            pairs[reader.GetString(0)] = reader.IsDBNull(1) ? "" : reader.GetString(1);
        }

        return pairs;
    }
}
