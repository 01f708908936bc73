using System.Text.Json.Nodes;
using Chive.Contracts.Indexing;
using Chive.IndexWorker.Indexing;
using Chive.Storage;
using Chive.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Chive.Tests.Indexing;

/// <summary>The IndexWorker's record store and eprint projection against the real PostgreSQL (a fresh, migrated database each).</summary>
public sealed class RecordIndexerTests : IAsyncLifetime
{
    private const string Did = "did:plc:ewvi7nxzyoun6zhxrhs64oiz";
    private const string Pds = "http://pds.example.test";
    private NpgsqlDataSource _db = null!;

    public async Task InitializeAsync()
    {
        var name = await TestServers.CreateDatabaseAsync("chive_index");
        _db = NpgsqlDataSource.Create(TestServers.PostgresConnectionString(name));
        await new DatabaseMigrator(_db, NullLogger<DatabaseMigrator>.Instance).MigrateAsync(CancellationToken.None);
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private RecordIndexer Indexer => new(_db, Microsoft.Extensions.Logging.Abstractions.NullLogger<RecordIndexer>.Instance);

    [Fact]
    public async Task Valid_records_are_stored_submissions_projected_and_invalid_ones_skipped_with_reasons()
    {
        var outcome = await Indexer.IndexAsync(Pds, [
            Record("pub.chive.eprint.submission", "3kaaaaaaaaaa1", LexiconSubmission()),
            Record("pub.chive.eprint.submission", "3kaaaaaaaaaa2", LegacySubmission()),
            Record("pub.chive.review.comment", "3kaaaaaaaaaa3", new JsonObject { ["eprintUri"] = Uri("pub.chive.eprint.submission", "3kaaaaaaaaaa1"), ["body"] = new JsonArray(), ["createdAt"] = "2026-01-02T00:00:00Z" }),
            Record("pub.chive.eprint.submission", "3kaaaaaaaaaa4", new JsonObject { ["authors"] = new JsonArray(new JsonObject { ["name"] = "X", ["order"] = 1 }), ["createdAt"] = "2026-01-01T00:00:00Z" }),
            Record("app.bsky.feed.post", "3kaaaaaaaaaa5", new JsonObject { ["text"] = "hello" }),
            new FetchedRecord("at://not-a-did/pub.chive.eprint.submission/x", "bafyreibidxi32k5g6ffkqrif7oqf23gvgnrrzjs5w2xraxwmlxgcgucj7i", "{}"),
        ], CancellationToken.None);

        Assert.Equal(3, outcome.Indexed);
        Assert.Equal(new Dictionary<string, int>
        {
            ["submission: missing title"] = 1,
            ["not a pub.chive record"] = 1,
            ["invalid AT-URI"] = 1,
        }, outcome.Invalid);
        Assert.Equal(3L, await ScalarAsync<long>("SELECT count(*) FROM indexed_records"));
        Assert.Equal(2L, await ScalarAsync<long>("SELECT count(*) FROM eprints_index"));

        // Lexicon names
        Assert.Equal("A lexicon eprint", await ScalarAsync<string>($"SELECT title FROM eprints_index WHERE uri = '{Uri("pub.chive.eprint.submission", "3kaaaaaaaaaa1")}'"));
        Assert.Equal("Rich abstract.", await ScalarAsync<string>($"SELECT abstract_plain_text FROM eprints_index WHERE uri = '{Uri("pub.chive.eprint.submission", "3kaaaaaaaaaa1")}'"));
        Assert.Equal("CC0-1.0", await ScalarAsync<string>($"SELECT license FROM eprints_index WHERE uri = '{Uri("pub.chive.eprint.submission", "3kaaaaaaaaaa1")}'"));
        Assert.Equal("at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/pub.chive.graph.node/physics",
            await ScalarAsync<string>($"SELECT fields->0->>'uri' FROM eprints_index WHERE uri = '{Uri("pub.chive.eprint.submission", "3kaaaaaaaaaa1")}'"));
        Assert.Equal("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
            await ScalarAsync<string>($"SELECT document_blob_cid FROM eprints_index WHERE uri = '{Uri("pub.chive.eprint.submission", "3kaaaaaaaaaa1")}'"));
        Assert.Equal(2, await ScalarAsync<int>($"SELECT version FROM eprints_index WHERE uri = '{Uri("pub.chive.eprint.submission", "3kaaaaaaaaaa1")}'"));

        // Legacy names
        var legacy = Uri("pub.chive.eprint.submission", "3kaaaaaaaaaa2");
        Assert.Equal("A plain-string abstract.", await ScalarAsync<string>($"SELECT abstract_plain_text FROM eprints_index WHERE uri = '{legacy}'"));
        Assert.Equal("MIT", await ScalarAsync<string>($"SELECT license FROM eprints_index WHERE uri = '{legacy}'"));
        Assert.Equal("Field from fieldNodes", await ScalarAsync<string>($"SELECT fields->0->>'label' FROM eprints_index WHERE uri = '{legacy}'"));
        Assert.Equal("10.1234/legacy", await ScalarAsync<string>($"SELECT published_version->>'doi' FROM eprints_index WHERE uri = '{legacy}'"));
        Assert.Equal(Did, await ScalarAsync<string>($"SELECT submitted_by FROM eprints_index WHERE uri = '{legacy}'"));
        Assert.Equal(3, await ScalarAsync<int>($"SELECT version FROM eprints_index WHERE uri = '{legacy}'"));
    }

    [Fact]
    public async Task Records_with_an_unchanged_CID_are_not_written_again_and_a_changed_one_is()
    {
        var first = Record("pub.chive.eprint.submission", "3kaaaaaaaaab1", LexiconSubmission());
        await Indexer.IndexAsync(Pds, [first], CancellationToken.None);
        var writtenAt = await ScalarAsync<DateTime>("SELECT updated_at FROM indexed_records");

        var again = await Indexer.IndexAsync(Pds, [first], CancellationToken.None);
        Assert.Equal((0, 1), (again.Indexed, again.Unchanged));
        Assert.Equal(writtenAt, await ScalarAsync<DateTime>("SELECT updated_at FROM indexed_records"));

        var edited = LexiconSubmission();
        edited["title"] = "A corrected title";
        var changed = await Indexer.IndexAsync(Pds, [first with { Cid = "bafyreiaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", Value = edited.ToJsonString() }], CancellationToken.None);
        Assert.Equal((1, 0), (changed.Indexed, changed.Unchanged));
        Assert.Equal("A corrected title", await ScalarAsync<string>("SELECT title FROM eprints_index"));
    }

    [Fact]
    public async Task A_createdAt_with_an_offset_is_stored_as_the_same_instant()
    {
        var submission = LexiconSubmission();
        submission["createdAt"] = "2026-01-01T10:00:00+01:00"; // a valid atproto datetime; Npgsql writes timestamptz only from UTC

        var outcome = await Indexer.IndexAsync(Pds, [Record("pub.chive.eprint.submission", "3kaaaaaaaae01", submission)], CancellationToken.None);

        Assert.Equal((1, 0), (outcome.Indexed, outcome.InvalidCount));
        Assert.Equal(new DateTime(2026, 1, 1, 9, 0, 0, DateTimeKind.Utc), await ScalarAsync<DateTime>("SELECT created_at FROM eprints_index"));
    }

    [Fact]
    public async Task A_previous_version_is_kept_when_indexed_before_or_in_the_same_batch_and_never_the_eprint_itself()
    {
        JsonObject Version(string previousRkey)
        {
            var submission = LexiconSubmission();
            submission["previousVersion"] = new JsonObject { ["uri"] = Uri("pub.chive.eprint.submission", previousRkey) };
            return submission;
        }

        await Indexer.IndexAsync(Pds, [
            Record("pub.chive.eprint.submission", "3kaaaaaaaad02", Version("3kaaaaaaaad01")), // its previous version comes later in the batch
            Record("pub.chive.eprint.submission", "3kaaaaaaaad01", LegacySubmission()),
            Record("pub.chive.eprint.submission", "3kaaaaaaaad03", Version("3kaaaaaaaad09")), // never indexed
            Record("pub.chive.eprint.submission", "3kaaaaaaaad04", Version("3kaaaaaaaad04")), // itself
        ], CancellationToken.None);
        await Indexer.IndexAsync(Pds, [Record("pub.chive.eprint.submission", "3kaaaaaaaad05", Version("3kaaaaaaaad01"))], CancellationToken.None);

        Assert.Equal("d01 -|d02 d01|d03 -|d04 -|d05 d01", await ScalarAsync<string>("""
            SELECT string_agg(right(uri, 3) || ' ' || coalesce(right(previous_version_uri, 3), '-'), '|' ORDER BY uri) FROM eprints_index
            """));
        Assert.Equal(["physics", "atproto"], await ScalarAsync<string[]>($"SELECT keywords FROM eprints_index WHERE uri = '{Uri("pub.chive.eprint.submission", "3kaaaaaaaad02")}'"));
    }

    [Fact]
    public async Task The_sweeps_a_batch_carries_run_together_each_only_over_its_own_collection()
    {
        await Indexer.IndexAsync(Pds, [
            Record("pub.chive.eprint.submission", "3kaaaaaaaac01", LexiconSubmission()),
            Record("pub.chive.eprint.submission", "3kaaaaaaaac02", LegacySubmission()),
            Record("pub.chive.eprint.userTag", "3kaaaaaaaac03", new JsonObject { ["tag"] = "a" }),
            Record("pub.chive.eprint.userTag", "3kaaaaaaaac04", new JsonObject { ["tag"] = "b" }),
            Record("pub.chive.review.comment", "3kaaaaaaaac05", new JsonObject { ["body"] = "kept: its collection is not swept" }),
        ], CancellationToken.None);
        var listedFrom = DateTimeOffset.UtcNow.AddMinutes(1);

        SweepOutcome outcome;
        await using (var connection = await _db.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            outcome = await RecordIndexer.SweepAsync(connection, transaction, [
                new CollectionSweep(Did, "pub.chive.eprint.submission", ["3kaaaaaaaac01"], listedFrom),
                new CollectionSweep(Did, "pub.chive.eprint.userTag", [], listedFrom, SweepCollection.Pds404),
                new CollectionSweep("did:plc:someoneelse00000000000000", "pub.chive.review.comment", [], listedFrom),
            ], CancellationToken.None);
            await transaction.CommitAsync();
        }

        Assert.Equal(3, outcome.Deleted);
        Assert.Equal([Uri("pub.chive.eprint.submission", "3kaaaaaaaac02")], outcome.DeletedEprints);
        Assert.Equal("3kaaaaaaaac02 scan_missing|3kaaaaaaaac03 pds_404|3kaaaaaaaac04 pds_404", await ScalarAsync<string>(
            "SELECT string_agg(rkey || ' ' || deletion_source, '|' ORDER BY rkey) FROM indexed_records WHERE deleted_at IS NOT NULL"));
        Assert.Equal(1L, await ScalarAsync<long>("SELECT count(*) FROM eprints_index WHERE deleted_at IS NOT NULL"));
    }

    private static FetchedRecord Record(string collection, string rkey, JsonObject value) =>
        new(Uri(collection, rkey), "bafyreibidxi32k5g6ffkqrif7oqf23gvgnrrzjs5w2xraxwmlxgcgucj7" + (char)('a' + (rkey[^1] - '0')), value.ToJsonString());

    private static string Uri(string collection, string rkey) => $"at://{Did}/{collection}/{rkey}";

    [Fact]
    public async Task Declared_citations_become_user_provided_rows_each_field_read_by_its_kind_and_leave_with_their_record()
    {
        const string eprint = "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/pub.chive.eprint.submission/3kaaaaaaaaaa1";
        JsonObject Citation(JsonNode? citedWork, JsonNode? eprintUri = null) => new()
        {
            ["eprintUri"] = eprintUri ?? eprint,
            ["citedWork"] = citedWork,
            ["citationType"] = "extends",
            ["createdAt"] = "2026-01-01T00:00:00Z",
        };

        await Indexer.IndexAsync(Pds, [
            Record("pub.chive.eprint.citation", "3kcite0000001", Citation(new JsonObject
            {
                ["title"] = "A cited work", ["doi"] = "10.5555/ABC", ["year"] = 1999, ["authors"] = new JsonArray("Ada Lovelace"), ["venue"] = "Nature",
            })),
            // Every field of the wrong kind: title a number, doi an object, year a string and then five digits, authors an object.
            Record("pub.chive.eprint.citation", "3kcite0000002", Citation(new JsonObject
            {
                ["title"] = 42, ["doi"] = new JsonObject(), ["year"] = "1999", ["authors"] = new JsonObject { ["name"] = "x" }, ["venue"] = new JsonArray(),
            })),
            Record("pub.chive.eprint.citation", "3kcite0000003", Citation(new JsonObject { ["title"] = new string('t', 5000), ["year"] = 99999 })),
            Record("pub.chive.eprint.citation", "3kcite0000004", Citation("just a string")),      // citedWork not an object: no row
            Record("pub.chive.eprint.citation", "3kcite0000005", Citation(new JsonObject(), 5)),  // eprintUri not text: no row
            Record("pub.chive.eprint.citation", "3kcite0000006", Citation(new JsonObject(), "https://example.com")), // not an AT-URI
        ], CancellationToken.None);

        Assert.Equal(3L, await ScalarAsync<long>("SELECT count(*) FROM extracted_citations WHERE source = 'user-provided'"));
        Assert.Equal("A cited work|10.5555/abc|1999|[\"Ada Lovelace\"]|Nature|extends|" + Did, await ScalarAsync<string>(
            $"SELECT concat_ws('|', title, doi, year, authors::text, venue, citation_type, curator_did) FROM extracted_citations WHERE user_record_uri = '{Uri("pub.chive.eprint.citation", "3kcite0000001")}'"));
        Assert.Equal("0|0|0|0|0", await ScalarAsync<string>(
            $"SELECT concat_ws('|', (title IS NOT NULL)::int, (doi IS NOT NULL)::int, (year IS NOT NULL)::int, (authors IS NOT NULL)::int, (venue IS NOT NULL)::int) FROM extracted_citations WHERE user_record_uri = '{Uri("pub.chive.eprint.citation", "3kcite0000002")}'"));
        Assert.Equal("1000|", await ScalarAsync<string>(
            $"SELECT concat_ws('|', length(title), year) || '|' FROM extracted_citations WHERE user_record_uri = '{Uri("pub.chive.eprint.citation", "3kcite0000003")}'"));

        // The record deleted on its PDS (a sweep that no longer finds it): its row goes with it, the others stay.
        await using (var connection = await _db.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await RecordIndexer.SweepAsync(connection, transaction, Did, "pub.chive.eprint.citation", ["3kcite0000002", "3kcite0000003"], null, CancellationToken.None);
            await transaction.CommitAsync();
        }

        Assert.Equal(2L, await ScalarAsync<long>("SELECT count(*) FROM extracted_citations WHERE source = 'user-provided'"));
    }

    private static JsonObject LexiconSubmission() => new()
    {
        ["$type"] = "pub.chive.eprint.submission",
        ["title"] = "A lexicon eprint",
        ["abstract"] = new JsonArray(new JsonObject { ["type"] = "text", ["content"] = "Rich abstract." }),
        ["authors"] = new JsonArray(new JsonObject { ["did"] = Did, ["name"] = "Alice", ["order"] = 1 }),
        ["submittedBy"] = Did,
        ["document"] = new JsonObject
        {
            ["$type"] = "blob",
            ["ref"] = new JsonObject { ["$link"] = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku" },
            ["mimeType"] = "application/pdf",
            ["size"] = 123456,
        },
        ["fieldUris"] = new JsonArray("at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/pub.chive.graph.node/physics"),
        ["keywords"] = new JsonArray("physics", "atproto"),
        ["licenseSlug"] = "CC0-1.0",
        ["version"] = new JsonObject { ["major"] = 2, ["minor"] = 0, ["patch"] = 0 },
        ["createdAt"] = "2026-01-01T00:00:00.000Z",
    };

    private static JsonObject LegacySubmission() => new()
    {
        ["title"] = "A legacy eprint",
        ["abstract"] = "A plain-string abstract.",
        ["authors"] = new JsonArray(new JsonObject { ["name"] = "Bob", ["order"] = 1 }),
        ["fieldNodes"] = new JsonArray(new JsonObject { ["uri"] = "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/pub.chive.graph.node/x", ["label"] = "Field from fieldNodes" }),
        ["license"] = "MIT",
        ["doi"] = "10.1234/legacy",
        ["versionNumber"] = 3,
        ["createdAt"] = "2026-01-01T00:00:00Z",
    };

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var command = _db.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
