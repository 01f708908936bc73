using System.Text.Json.Nodes;
using Chive.Tests.Infrastructure;
using Chive.Tests.PdsScan;

namespace Chive.Tests.OpenNetwork;

/// <summary>
/// Poison written to the real PDS by the account's own client (<c>validate:false</c>, as any client may): type
/// confusion across the fields of submissions, authors, blobs and versions, NUL characters, surrogates, deep nesting,
/// a DOI no index row can hold. (The reference PDS itself refuses fractions and stores a lone surrogate as U+FFFD;
/// those, and duplicate keys, reach us only from hostile PDSes — see <see cref="HostilePdsTests"/>.) The sync completes, every valid record is exact, and each poison record is counted
/// and listed with its reason — for the operator, in <c>record_rejections</c>.
/// </summary>
public abstract class PoisonRecordSuite(ChiveAppFixture fixture)
{
    private const string Submission = "pub.chive.eprint.submission";

    private ScanDatabase Db => new(fixture.DatabaseConnectionString);

    /// <summary>Records the PDS stores and a scan must reject, each with the start of its reason.</summary>
    private static readonly (string Rkey, string Collection, Func<JsonObject> Value, string Reason)[] Rejected =
    [
        ("titlenumber", Submission, () => With(Good("x"), "title", 42), "submission: missing title"),
        ("titleobject", Submission, () => With(Good("x"), "title", new JsonObject { ["text"] = "nested" }), "submission: missing title"),
        ("titlearray", Submission, () => With(Good("x"), "title", new JsonArray("a", "b")), "submission: missing title"),
        ("titleblank", Submission, () => With(Good("x"), "title", "   "), "submission: missing title"),
        ("authorsstring", Submission, () => With(Good("x"), "authors", "Ada Lovelace"), "submission: missing authors"),
        ("authorsnumbers", Submission, () => With(Good("x"), "authors", new JsonArray(1, 2, 3)), "submission: missing authors"),
        ("authorsempty", Submission, () => With(Good("x"), "authors", new JsonArray()), "submission: missing authors"),
        ("createdatnumber", Submission, () => With(Good("x"), "createdAt", 1740787200), "submission: missing or invalid createdAt"),
        ("createdatjunk", Submission, () => With(Good("x"), "createdAt", "yesterday-ish"), "submission: missing or invalid createdAt"),
        ("nultitle", Submission, () => Good("nul\u0000title"), "a string contains a NUL character"),
        ("nulauthor", Submission, () => With(Good("x"), "authors", new JsonArray(new JsonObject { ["name"] = "A\u0000B" })), "a string contains a NUL character"),
        ("nultag", "pub.chive.eprint.userTag", () => new JsonObject { ["eprintUri"] = "at://x", ["tag"] = "\u0000", ["createdAt"] = "2026-03-01T00:00:00Z" }, "a string contains a NUL character"),
        ("nulkey", "pub.chive.review.comment", () => new JsonObject { ["body\u0000"] = "x", ["createdAt"] = "2026-03-01T00:00:00Z" }, "a key contains a NUL character"),
        ("deep", Submission, () => With(Good("deep"), "extra", Nested(80)), "nested deeper than 64"),
        ("longdoi", Submission, () => With(Good("long DOI"), "doi", "10.1/" + PoisonText.Incompressible(9000, seed: 7)), "refused by PostgreSQL"),
    ];

    /// <summary>Records of the wrong kinds in optional fields: taken, with those fields treated as absent.</summary>
    private static readonly (string Rkey, string Collection, Func<JsonObject> Value)[] Accepted =
    [
        ("plain", Submission, () => Good("A plain, valid eprint")),
        ("sizestring", Submission, () => With(Good("size as text"), "document", new JsonObject { ["$type"] = "blob", ["ref"] = new JsonObject { ["$link"] = "bafkreidoc" }, ["mimeType"] = "application/pdf", ["size"] = "1234" })),
        ("refstring", Submission, () => With(Good("ref as string"), "document", new JsonObject { ["ref"] = "bafkreidoc", ["mimeType"] = 7 })),
        ("documentarray", Submission, () => With(Good("document as array"), "document", new JsonArray(1, 2))),
        ("versionstring", Submission, () => With(With(Good("version as text"), "versionNumber", "two"), "version", "2.0")),
        ("versionnegative", Submission, () => With(With(Good("version negative"), "versionNumber", -5), "version", new JsonObject { ["major"] = "x" })),
        ("keywordsmixed", Submission, () => With(Good("mixed keywords"), "keywords", new JsonArray("ok", 5, null, new JsonObject(), true))),
        ("fieldsjunk", Submission, () => With(With(Good("junk fields"), "fieldUris", "not an array"), "fieldNodes", new JsonArray(1, new JsonObject { ["uri"] = 5 }))),
        ("ordertext", Submission, () => With(Good("order as text"), "authors", new JsonArray(new JsonObject { ["name"] = "Ada", ["order"] = "first" }, "not an author"))),
        ("abstractnumber", Submission, () => With(Good("abstract as number"), "abstract", 12345)),
        ("previousobject", Submission, () => With(Good("previous as object"), "previousVersion", new JsonObject { ["uri"] = 5 })),
        ("licensebool", Submission, () => With(With(Good("license as bool"), "licenseSlug", true), "license", new JsonArray())),
        ("versionrecord", "pub.chive.eprint.version", () => new JsonObject { ["eprintUri"] = 7, ["versionNumber"] = "two", ["changes"] = new JsonArray(), ["createdAt"] = 1 }),
        ("surrogate", Submission, () => Good("lone \ud800 surrogate, which the PDS stores as U+FFFD")),
    ];

    [Fact]
    public async Task A_sync_of_an_account_full_of_poison_completes_with_every_valid_record_exact_and_each_poison_record_rejected_with_its_reason()
    {
        var records = Rejected.Select(r => new SeedRecord(r.Collection, r.Value(), r.Rkey))
            .Concat(Accepted.Select(r => new SeedRecord(r.Collection, r.Value(), r.Rkey))).ToList();
        var account = (await fixture.Network.SeedAsync(0, new SeedAccount($"poison{Guid.NewGuid():N}"[..15] + ".test", records)))[0];
        string Uri(string collection, string rkey) => $"at://{account.Did}/{collection}/{rkey}";
        using var admin = fixture.CreateAdminClient();

        var done = await admin.DidSyncAsync(account.Did);

        Assert.Equal("completed", done.Status());
        Assert.Equal(Accepted.Length, done.Records());
        Assert.Equal(Rejected.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), done.Meta("invalidRecords"));
        var cids = account.Records.ToDictionary(r => r.Uri, r => r.Cid);
        Assert.Equal(
            Accepted.Select(r => Uri(r.Collection, r.Rkey)).Order(StringComparer.Ordinal).Select(u => (u, cids[u])),
            (await Db.LiveRecordsAsync(account.Did)).OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => (p.Key, p.Value)));
        Assert.Equal(Accepted.Count(r => r.Collection == Submission), (await Db.LiveEprintsAsync(account.Did)).Count);
        Assert.Equal(Accepted.Count(r => r.Collection == Submission), (await fixture.SearchDocumentsAsync($"at://{account.Did}/")).Count);

        foreach (var (rkey, collection, _, reason) in Rejected)
        {
            var stored = await Db.ScalarAsync<string>("SELECT reason FROM record_rejections WHERE uri = @uri", ("uri", Uri(collection, rkey)));
            Assert.StartsWith(reason, stored, StringComparison.Ordinal);
        }

        // A second sync changes nothing and still says exactly the same.
        var again = await admin.DidSyncAsync(account.Did);
        Assert.Equal(("completed", done.Records(), done.Meta("invalidRecords"), "0"), (again.Status(), again.Records(), again.Meta("invalidRecords"), again.Meta("recordsChanged")));
    }

    private static JsonObject Good(string title) => ScanWorld.LexiconSubmission(title, null);

    private static JsonObject With(JsonObject record, string field, JsonNode? value)
    {
        record[field] = value;
        return record;
    }

    private static JsonNode Nested(int depth)
    {
        JsonNode node = new JsonObject { ["leaf"] = true };
        for (var i = 0; i < depth; i++)
        {
            node = new JsonObject { ["n"] = node };
        }

        return node;
    }
}

/// <summary>Poison read from the account's signed CAR (the default mode).</summary>
[Collection(ChiveAppCollection.Name)]
public sealed class PoisonRecordTests(ChiveAppFixture fixture) : PoisonRecordSuite(fixture);

/// <summary>Poison read from <c>listRecords</c>.</summary>
[Collection(ListingAppCollection.Name)]
public sealed class PoisonRecordListingTests(ListingAppFixture listing) : PoisonRecordSuite(listing.App);
