using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Chive.Testing.Doubles;
using Chive.Tests.Infrastructure;
using Npgsql;

namespace Chive.Tests.Citations;

/// <summary>
/// Eprints for citation tests, written by real accounts on the fixture's real PDS (a PDF uploaded with uploadBlob and
/// referenced from the submission, so the PDS keeps it), indexed by a DID sync, with what GROBID, Semantic Scholar and
/// Crossref (the fixture's doubles) say of them. Every name carries a tag unique to the test, since the doubles and the
/// database are shared by the whole collection.
/// </summary>
public sealed class CitationWorld(ChiveAppFixture fixture)
{
    public const string Submission = "pub.chive.eprint.submission";

    public string Tag { get; } = Guid.NewGuid().ToString("N")[..10];

    public Uri Pds => fixture.Network.PdsUrls[0];

    public async Task<SeededAccount> AccountAsync(string name) =>
        (await fixture.Network.SeedAsync(0, new SeedAccount($"{name}{Tag}"[..Math.Min(18, name.Length + Tag.Length)] + ".test", [])))[0];

    /// <summary>A PDF of its own (unique bytes), registered with the GROBID double with <paramref name="tei"/> (null: 204).</summary>
    public byte[] Pdf(string name, string? tei)
    {
        var pdf = Encoding.ASCII.GetBytes($"%PDF-1.4\n% {name} {Tag} {Guid.NewGuid():N}\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n");
        fixture.GrobidServer.AddDocument(pdf, tei);
        return pdf;
    }

    /// <summary>Writes a submission (with <paramref name="pdf"/> as its document when given) and returns its AT-URI.</summary>
    public async Task<string> EprintAsync(SeededAccount account, string title, byte[]? pdf = null, string? doi = null)
    {
        using var user = new HttpClient { BaseAddress = Pds };
        user.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", account.AccessJwt);
        var record = new JsonObject
        {
            ["$type"] = Submission,
            ["title"] = title,
            ["abstract"] = new JsonArray(new JsonObject { ["type"] = "text", ["content"] = $"Abstract of {title}." }),
            ["authors"] = new JsonArray(new JsonObject { ["did"] = account.Did, ["name"] = "Ada Author", ["order"] = 1 }),
            ["createdAt"] = "2026-11-01T00:00:00Z",
        };
        if (pdf is not null)
        {
            using var content = new ByteArrayContent(pdf);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/pdf");
            using var uploaded = await user.PostAsync("/xrpc/com.atproto.repo.uploadBlob", content);
            Assert.True(uploaded.IsSuccessStatusCode, await uploaded.Content.ReadAsStringAsync());
            record["document"] = (await uploaded.Content.ReadFromJsonAsync<JsonObject>())!["blob"]!.DeepClone();
        }

        if (doi is not null)
        {
            record["publishedVersion"] = new JsonObject { ["doi"] = doi };
        }

        using var written = await user.PostAsJsonAsync("/xrpc/com.atproto.repo.createRecord", new JsonObject
        {
            ["repo"] = account.Did,
            ["collection"] = Submission,
            ["validate"] = false,
            ["record"] = record,
        });
        var body = await written.Content.ReadAsStringAsync();
        Assert.True(written.IsSuccessStatusCode, body);
        return JsonNode.Parse(body)!["uri"]!.GetValue<string>();
    }

    /// <summary>A citation the account declares itself (<c>pub.chive.eprint.citation</c>); returns its AT-URI.</summary>
    public async Task<string> UserCitationAsync(SeededAccount account, string eprintUri, string title, int year)
    {
        using var user = new HttpClient { BaseAddress = Pds };
        user.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", account.AccessJwt);
        using var written = await user.PostAsJsonAsync("/xrpc/com.atproto.repo.createRecord", new JsonObject
        {
            ["repo"] = account.Did,
            ["collection"] = "pub.chive.eprint.citation",
            ["validate"] = false,
            ["record"] = new JsonObject
            {
                ["$type"] = "pub.chive.eprint.citation",
                ["eprintUri"] = eprintUri,
                ["citedWork"] = new JsonObject { ["title"] = title, ["year"] = year, ["authors"] = new JsonArray("Ada Lovelace") },
                ["citationType"] = "extends",
                ["createdAt"] = "2026-11-01T00:00:00Z",
            },
        });
        var body = await written.Content.ReadAsStringAsync();
        Assert.True(written.IsSuccessStatusCode, body);
        return JsonNode.Parse(body)!["uri"]!.GetValue<string>();
    }

    /// <summary>The user-provided rows of an eprint: record URI, title, year, type, curator, authors.</summary>
    public async Task<List<string>> UserRowsAsync(string eprintUri)
    {
        await using var connection = new NpgsqlConnection(fixture.DatabaseConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT user_record_uri || ' | ' || title || ' | ' || year || ' | ' || citation_type || ' | ' || curator_did || ' | ' || authors::text
            FROM extracted_citations WHERE eprint_uri = @uri AND source = 'user-provided' ORDER BY id
            """, connection);
        command.Parameters.AddWithValue("uri", eprintUri);
        var rows = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }

    /// <summary>Runs a citation extraction to its end and returns the operation.</summary>
    public static async Task<JsonObject> ExtractAsync(HttpClient admin, JsonObject? input = null)
    {
        var started = await admin.PostAsync("triggerCitationExtraction", input ?? []);
        return await admin.WaitForEndAsync(started["operationId"]!.GetValue<string>(), TimeSpan.FromMinutes(3));
    }

    /// <summary>An eprint's automatic citations, in the order written, as comparable text (one line per row).</summary>
    public async Task<List<string>> RowsAsync(string eprintUri)
    {
        await using var connection = new NpgsqlConnection(fixture.DatabaseConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT coalesce(title, '-'), coalesce(doi, '-'), coalesce(year::text, '-'), coalesce(venue, '-'), source, array_to_string(sources, '+'),
                   confidence::numeric(4,2)::text, coalesce(chive_match_uri, '-'), coalesce(match_method, '-'), coalesce(match_confidence::numeric(4,2)::text, '-'),
                   authors::text, coalesce(raw_text, '-'), coalesce(volume, '-'), coalesce(pages, '-')
            FROM extracted_citations WHERE eprint_uri = @uri AND source <> 'user-provided' ORDER BY id
            """, connection);
        command.Parameters.AddWithValue("uri", eprintUri);
        var rows = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(string.Join(" | ", Enumerable.Range(0, reader.FieldCount).Select(reader.GetString)));
        }

        return rows;
    }

    /// <summary>The ids of an eprint's rows (all of them): equal before and after a run means the run wrote none.</summary>
    public async Task<List<long>> RowIdsAsync(string eprintUri)
    {
        await using var connection = new NpgsqlConnection(fixture.DatabaseConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT id FROM extracted_citations WHERE eprint_uri = @uri ORDER BY id", connection);
        command.Parameters.AddWithValue("uri", eprintUri);
        var ids = new List<long>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetInt64(0));
        }

        return ids;
    }

    /// <summary>The test database's reads and writes the scan tests use too.</summary>
    public Chive.Tests.PdsScan.ScanDatabase Db => new(fixture.DatabaseConnectionString);

    public Task<long> LiveEprintsAsync() => Db.ScalarAsync<long>("SELECT count(*) FROM eprints_index WHERE deleted_at IS NULL");

    public Task ExecuteAsync(string sql, params (string Name, object Value)[] parameters) => Db.ExecuteAsync(sql, parameters);

    /// <summary>GROBID calls for this PDF so far.</summary>
    public int GrobidCalls(byte[] pdf) => fixture.GrobidServer.Calls.Count(c => c.Sha256 == GrobidDouble.Sha256Hex(pdf));
}
