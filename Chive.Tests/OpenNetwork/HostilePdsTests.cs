using System.Text;
using System.Text.Json.Nodes;
using Chive.Testing.Doubles;
using Chive.Tests.Infrastructure;
using Chive.Tests.PdsScan;

namespace Chive.Tests.OpenNetwork;

/// <summary>
/// The scan against servers that mean harm, on the same PLC directory as the real PDSes: one that lists other people's
/// DIDs and serves forged, foreign, oversized and unstorable records; one whose cursors cycle; one whose listing never
/// ends; one whose body stalls; one that asks us to wait until 2286. Scanned together with the real PDSes, every real
/// record stays exact, nothing of the victims changes, each hostile PDS's failure is recorded against it, and the
/// operation ends within its limits. In listing mode, the mode whose answers these are: a PDS's forged CARs are
/// <see cref="HostileCarTests"/>.
/// </summary>
[Collection(ListingAppCollection.Name)]
public sealed class HostilePdsTests(ListingAppFixture listing)
{
    private const string Submission = "pub.chive.eprint.submission";
    private const string Comment = "pub.chive.review.comment";
    private static readonly string[] ReadMethods =
        ["com.atproto.sync.listRepos", "com.atproto.repo.describeRepo", "com.atproto.repo.listRecords", "com.atproto.sync.getLatestCommit"];

    private ChiveAppFixture Fixture => listing.App;

    private ScanDatabase Db => new(Fixture.DatabaseConnectionString);

    [Fact]
    public async Task Hostile_PDSes_scanned_with_the_real_ones_change_nothing_of_the_victims_and_the_scan_ends()
    {
        var world = await ScanWorld.GetAsync(Fixture);
        var (alice, bob) = (world.Alice.Did, world.Bob.Did);
        await using var liar = await HostilePds.StartNewAsync();
        await using var cycling = await HostilePds.StartNewAsync();
        await using var endless = await HostilePds.StartNewAsync();
        await using var stalling = await HostilePds.StartNewAsync();
        await using var greedy = await HostilePds.StartNewAsync();

        // Mallory's accounts live on the real PLC, and their DID documents name the liar as their PDS.
        var mallory = await Fixture.Network.SeedAsync(0, liar.BaseAddress,
            new SeedAccount($"mallory{Guid.NewGuid():N}"[..16] + ".test", []), new SeedAccount($"mbroken{Guid.NewGuid():N}"[..16] + ".test", []));
        var (m1, m2) = (mallory[0].Did, mallory[1].Did);
        var poison = PoisonPage(m1, alice);

        // Mallory is listed twice, on two pages: her repo is read twice, and its batches must not collide.
        liar.ListingRepos(alice, bob, m1, m2, m1).Describing(Submission, Comment);
        liar.Methods["com.atproto.repo.listRecords"] = query => (query["repo"].ToString(), query["collection"].ToString()) switch
        {
            (var repo, _) when repo == m2 => HostilePds.Answer.Raw([.. Encoding.UTF8.GetBytes("{\"records\":[{\"uri\":\""), 0xC0, 0xAF, .. Encoding.UTF8.GetBytes("\"}]}")]),
            (var repo, Submission) when repo == m1 => HostilePds.Answer.Raw(poison.Body) with
            {
                Headers = new Dictionary<string, string> { ["RateLimit-Remaining"] = "0", ["RateLimit-Reset"] = "-7", ["Retry-After"] = "soon" },
            },
            (var repo, Submission) when repo == alice => HostilePds.Answer.Json(new JsonObject
            {
                ["records"] = new JsonArray(HostilePds.Record(world.Alice.Records[0].Uri, ScanWorld.LexiconSubmission("Hijacked by the liar", null))),
            }),
            _ => HostilePds.Answer.Json(new JsonObject { ["records"] = new JsonArray() }), // "Bob has nothing any more"
        };
        cycling.Describing().Methods["com.atproto.sync.listRepos"] = query => Repos(query["cursor"].ToString() switch
        {
            "" => ([alice], "a"),
            "a" => ([bob], "b"),
            _ => ([alice], "a"),
        });
        endless.Describing().Methods["com.atproto.sync.listRepos"] = query =>
        {
            var n = int.TryParse(query["cursor"], out var c) ? c : 0;
            return Repos(([n % 2 == 0 ? alice : bob, n % 2 == 0 ? bob : alice], (n + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        };
        stalling.Methods["com.atproto.sync.listRepos"] = _ => Repos(([alice], null)) with { StallAfterHeaders = TimeSpan.FromMinutes(10) };
        greedy.Describing(Submission).Methods["com.atproto.sync.listRepos"] = _ => Repos(([alice], "next")) with
        {
            Headers = new Dictionary<string, string> { ["RateLimit-Remaining"] = "0", ["RateLimit-Reset"] = "9999999999" },
        };

        HostilePds[] hostile = [liar, cycling, endless, stalling, greedy];
        string[] real = [ScanWorld.Origin(world.A), ScanWorld.Origin(world.B), ScanWorld.Origin(world.C)];
        await MakeOnlyTheseDueAsync([.. real, .. hostile.Select(h => h.Origin)]);
        using var admin = Fixture.CreateAdminClient();

        var started = await admin.PostAsync("triggerPDSScan", new JsonObject());
        var done = await admin.WaitForEndAsync(started["operationId"]!.GetValue<string>(), TimeSpan.FromMinutes(4));

        Assert.Equal("completed", done.Status());
        Assert.Equal(("4", "2", "2"), (done.Meta("pdsesScanned"), done.Meta("pdsesLimited"), done.Meta("pdsesFailed")));
        // Alice and Bob as the liar lists them (the cycling and endless PDSes list them too; those count when we already hold them).
        Assert.True(long.Parse(done.Meta("reposNotHosted")!, System.Globalization.CultureInfo.InvariantCulture) >= 2, done.ToJsonString());
        Assert.Equal("17", done.Meta("invalidRecords")); // Mallory's eight poisoned records, read twice, and Carol's submission without a title

        // The victims: every real record exactly as their own PDSes hold it, nothing deleted, nothing hijacked.
        Assert.Equal(world.ExpectedRecords.OrderBy(p => p.Key), (await Db.LiveRecordsAsync(alice, bob, world.Carol.Did)).OrderBy(p => p.Key));
        Assert.Empty(await Db.DeletedRecordsAsync(alice, bob, world.Carol.Did));
        Assert.Equal(0L, await Db.ScalarAsync<long>("SELECT count(*) FROM eprints_index WHERE title LIKE 'Hijacked%'"));

        // Mallory's honest record is taken; each of her poisoned ones is rejected with its reason; foreign ones ignored.
        Assert.Equal([poison.Valid], (await Db.LiveRecordsAsync(m1)).Keys.ToList());
        var rejections = await RejectionsAsync(m1);
        Assert.Equal(poison.Rejected.Keys.Order(StringComparer.Ordinal), rejections.Keys.Order(StringComparer.Ordinal));
        foreach (var (uri, reason) in poison.Rejected)
        {
            Assert.StartsWith(reason, rejections[uri], StringComparison.Ordinal);
        }

        Assert.Empty(await Db.LiveRecordsAsync(m2));

        // Each hostile PDS's outcome is recorded against it.
        var registry = Fixture.Registry();
        Assert.Equal("active", (await registry.GetAsync(liar.BaseAddress))!.Status);
        Assert.Contains("cycle", (await registry.GetAsync(cycling.BaseAddress))!.LastError, StringComparison.Ordinal);
        Assert.Contains("PdsScan:MaxReposPerPds", (await registry.GetAsync(endless.BaseAddress))!.LastError, StringComparison.Ordinal);
        Assert.Contains("Timeout", (await registry.GetAsync(stalling.BaseAddress))!.LastError, StringComparison.Ordinal);
        Assert.Contains("RateLimited", (await registry.GetAsync(greedy.BaseAddress))!.LastError, StringComparison.Ordinal);
        foreach (var (pds, failed) in new[] { (liar, false), (cycling, false), (endless, false), (stalling, true), (greedy, true) })
        {
            Assert.Equal(failed, (await registry.GetAsync(pds.BaseAddress))!.ConsecutiveFailures > 0);
        }

        // We only ever asked them the read methods.
        Assert.All(hostile.SelectMany(h => h.Log), line => Assert.Contains(line[..line.IndexOf('?', StringComparison.Ordinal)], ReadMethods));
    }

    /// <summary>A listRecords page for Mallory, as raw JSON text: one honest record, two foreign ones, and poison.</summary>
    private static (string Body, string Valid, Dictionary<string, string> Rejected) PoisonPage(string mallory, string victim)
    {
        string Uri(string rkey) => $"at://{mallory}/{Submission}/{rkey}";
        string Entry(string uri, string valueJson) => $"{{\"uri\":\"{uri}\",\"cid\":\"{HostilePds.Cid}\",\"value\":{valueJson}}}";
        const string tail = "\"authors\":[{\"name\":\"Mallory\"}],\"createdAt\":\"2026-03-01T00:00:00Z\"";
        var rejected = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [Uri("3khuge0000000")] = "the record is",
            [Uri("3knul00000000")] = "a string contains a NUL character",
            [Uri("3kdup00000000")] = "duplicate key 'title'",
            [Uri("3ksurrogate00")] = "a string contains an unpaired surrogate",
            [Uri("3knumtitle000")] = "submission: missing title",
            [Uri("3kdeep0000000")] = "nested deeper than 64",
            [Uri("3klongdoi0000")] = "refused by PostgreSQL",
            [Uri("3kbignumber00")] = "a number out of range",
        };
        var entries = new[]
        {
            Entry(Uri("3kvalid000000"), $"{{\"title\":\"Mallory's honest eprint\",{tail}}}"),
            Entry($"at://{victim}/{Submission}/3kforged00000", $"{{\"title\":\"Forged in Alice's name\",{tail}}}"),
            Entry($"at://{mallory}/{Comment}/3kwrongcoll00", $"{{\"title\":\"Not a submission\",{tail}}}"),
            Entry(Uri("3khuge0000000"), $"{{\"title\":\"{new string('h', 2 * 1024 * 1024)}\",{tail}}}"),
            Entry(Uri("3knul00000000"), $"{{\"title\":\"nul\\u0000inside\",{tail}}}"),
            Entry(Uri("3kdup00000000"), $"{{\"title\":\"first\",\"title\":\"second\",{tail}}}"),
            Entry(Uri("3ksurrogate00"), $"{{\"title\":\"lone \\ud800 surrogate\",{tail}}}"),
            Entry(Uri("3knumtitle000"), $"{{\"title\":42,{tail}}}"),
            Entry(Uri("3kdeep0000000"), $"{{\"title\":\"deep\",\"x\":{new string('[', 100)}{new string(']', 100)},{tail}}}"),
            Entry(Uri("3klongdoi0000"), $"{{\"title\":\"A DOI longer than any index row\",\"doi\":\"10.1/{PoisonText.Incompressible(9000)}\",{tail}}}"),
            Entry(Uri("3kbignumber00"), $"{{\"title\":\"big\",\"n\":1e400,{tail}}}"),
        };
        return ($"{{\"records\":[{string.Join(',', entries)}]}}", Uri("3kvalid000000"), rejected);
    }

    private static HostilePds.Answer Repos((string[] Dids, string? Cursor) page)
    {
        var body = new JsonObject
        {
            ["repos"] = new JsonArray(page.Dids.Select(d => (JsonNode)new JsonObject { ["did"] = d, ["head"] = HostilePds.Cid, ["rev"] = "3l000000000aa", ["active"] = true }).ToArray()),
        };
        if (page.Cursor is not null)
        {
            body["cursor"] = page.Cursor;
        }

        return HostilePds.Answer.Json(body);
    }

    private async Task MakeOnlyTheseDueAsync(IEnumerable<string> origins)
    {
        await Db.ExecuteAsync("UPDATE pds_registry SET next_scan_at = now() + interval '10 years'");
        foreach (var origin in origins)
        {
            await Db.ExecuteAsync("""
                INSERT INTO pds_registry (pds_url, discovery_source) VALUES (@url, 'plc_enumeration')
                ON CONFLICT (pds_url) DO UPDATE SET next_scan_at = NULL, consecutive_failures = 0, lease_owner = NULL, lease_expires_at = NULL
                """, ("url", origin));
        }
    }

    private async Task<Dictionary<string, string>> RejectionsAsync(string did)
    {
        await using var connection = new Npgsql.NpgsqlConnection(Fixture.DatabaseConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT uri, reason FROM record_rejections WHERE did = @did", connection);
        command.Parameters.AddWithValue("did", did);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new Dictionary<string, string>(StringComparer.Ordinal);
        while (await reader.ReadAsync())
        {
            rows[reader.GetString(0)] = reader.GetString(1);
        }

        return rows;
    }
}
