using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Chive.Tests.Infrastructure;

namespace Chive.Tests.Foundation;

/// <summary>The real reference PDS and PLC directory answer our HTTP the way the atproto spec says.</summary>
[Collection(AtprotoNetworkCollection.Name)]
public sealed class AtprotoNetworkTests(AtprotoNetworkFixture fixture)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private const string Submission = "pub.chive.eprint.submission";

    [Fact]
    public async Task A_submission_written_to_the_real_PDS_reads_back_over_XRPC()
    {
        var pds = fixture.Network.PdsUrls[0];
        using var http = new HttpClient { BaseAddress = pds, Timeout = Timeout };

        // Writing is the test's job only: it plays the user's own client. Chive never calls a write method.
        var handle = $"rt{Guid.NewGuid():N}"[..12] + ".test";
        var account = await PostAsync(http, "com.atproto.server.createAccount", new JsonObject
        {
            ["handle"] = handle,
            ["email"] = $"{handle}@example.test",
            ["password"] = "round-trip-password",
        });
        var did = account["did"]!.GetValue<string>();
        var record = new JsonObject
        {
            ["$type"] = Submission,
            ["title"] = "Round-tripping records through a real PDS",
            ["abstract"] = new JsonArray(new JsonObject { ["type"] = "text", ["content"] = "We write, then read." }),
            ["authors"] = new JsonArray(new JsonObject { ["did"] = did, ["name"] = "Alice Test", ["order"] = 1 }),
            ["submittedBy"] = did,
            ["licenseSlug"] = "CC-BY-4.0",
            ["createdAt"] = "2026-11-28T12:00:00.000Z",
        };
        var written = await PostAsync(http, "com.atproto.repo.applyWrites", new JsonObject
        {
            ["repo"] = did,
            ["validate"] = false, // the PDS does not know the pub.chive.* lexicons
            ["writes"] = new JsonArray(new JsonObject
            {
                ["$type"] = "com.atproto.repo.applyWrites#create",
                ["collection"] = Submission,
                ["value"] = record,
            }),
        }, account["accessJwt"]!.GetValue<string>());
        var uri = written["results"]![0]!["uri"]!.GetValue<string>();
        var cid = written["results"]![0]!["cid"]!.GetValue<string>();
        var rkey = uri.Split('/')[^1];
        Assert.StartsWith($"at://{did}/{Submission}/", uri);

        // Read back, anonymously, as Chive will.
        var fetched = await GetAsync(http, $"com.atproto.repo.getRecord?repo={did}&collection={Submission}&rkey={rkey}");
        Assert.Equal(uri, fetched["uri"]!.GetValue<string>());
        Assert.Equal(cid, fetched["cid"]!.GetValue<string>());
        Assert.Equal(record["title"]!.GetValue<string>(), fetched["value"]!["title"]!.GetValue<string>());
        Assert.Equal("Alice Test", fetched["value"]!["authors"]![0]!["name"]!.GetValue<string>());

        var listed = await GetAsync(http, $"com.atproto.repo.listRecords?repo={did}&collection={Submission}&limit=100");
        Assert.Equal(uri, Assert.Single(listed["records"]!.AsArray())!["uri"]!.GetValue<string>());

        var described = await GetAsync(http, $"com.atproto.repo.describeRepo?repo={did}");
        Assert.Contains(Submission, described["collections"]!.AsArray().Select(c => c!.GetValue<string>()));

        // The DID resolves through the PLC directory to this PDS.
        using var plc = new HttpClient { BaseAddress = fixture.Network.PlcUrl, Timeout = Timeout };
        var document = (await plc.GetFromJsonAsync<JsonObject>($"/{did}"))!;
        var service = document["service"]!.AsArray().Single(s => s!["id"]!.GetValue<string>().EndsWith("#atproto_pds", StringComparison.Ordinal))!;
        Assert.Equal("AtprotoPersonalDataServer", service["type"]!.GetValue<string>());
        Assert.Equal(pds.ToString().TrimEnd('/'), service["serviceEndpoint"]!.GetValue<string>().TrimEnd('/'));
    }

    [Fact]
    public async Task A_missing_record_is_HTTP_400_RecordNotFound_on_the_reference_PDS()
    {
        var seeded = await fixture.Network.SeedAsync(0, new SeedAccount($"nf{Guid.NewGuid():N}"[..12] + ".test", []));
        using var http = new HttpClient { BaseAddress = fixture.Network.PdsUrls[0], Timeout = Timeout };

        using var response = await http.GetAsync($"/xrpc/com.atproto.repo.getRecord?repo={seeded[0].Did}&collection={Submission}&rkey=3zzzzzzzzzzzz");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("RecordNotFound", error["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_launcher_seeds_records_and_starts_more_PDSes_on_the_same_PLC()
    {
        var second = await fixture.Network.AddPdsAsync();
        var index = fixture.Network.PdsUrls.ToList().IndexOf(second);
        var records = Enumerable.Range(1, 12)
            .Select(i => new SeedRecord(Submission, new JsonObject { ["$type"] = Submission, ["title"] = $"Eprint {i}", ["createdAt"] = "2026-11-28T12:00:00Z" }))
            .ToList();

        var seeded = await fixture.Network.SeedAsync(index, new SeedAccount($"sd{Guid.NewGuid():N}"[..12] + ".test", records));

        Assert.Equal(12, seeded[0].Records.Count);
        using var http = new HttpClient { BaseAddress = second, Timeout = Timeout };
        var page = await GetAsync(http, $"com.atproto.repo.listRecords?repo={seeded[0].Did}&collection={Submission}&limit=5");
        Assert.Equal(5, page["records"]!.AsArray().Count);
        Assert.False(string.IsNullOrEmpty(page["cursor"]?.GetValue<string>()));
    }

    private static async Task<JsonObject> PostAsync(HttpClient http, string nsid, JsonObject body, string? token = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/xrpc/{nsid}") { Content = JsonContent.Create(body) };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{nsid} answered {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    private static async Task<JsonObject> GetAsync(HttpClient http, string pathAndQuery)
    {
        using var response = await http.GetAsync($"/xrpc/{pathAndQuery}");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{pathAndQuery} answered {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }
}
