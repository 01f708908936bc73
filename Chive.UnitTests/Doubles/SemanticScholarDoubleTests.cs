using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Chive.Testing.Doubles;

namespace Chive.UnitTests.Doubles;

/// <summary>
/// The Semantic Scholar double pages references, answers batches with nulls, and refuses as the Graph API does:
/// 404 JSON for an unknown paper, 429 with Retry-After for a client that comes too early, 403 without the key.
/// </summary>
public sealed class SemanticScholarDoubleTests : IAsyncLifetime
{
    private SemanticScholarDouble _s2 = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _s2 = await SemanticScholarDouble.StartNewAsync();
        _s2.RatePerSecond = double.PositiveInfinity; // the tests that pace set their own rate
        _http = new HttpClient { BaseAddress = _s2.BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _s2.DisposeAsync();
    }

    [Fact]
    public async Task References_page_with_next_until_the_last_page_which_has_none()
    {
        var cited = Enumerable.Range(0, 5).Select(i => SemanticScholarDouble.Paper(i == 3 ? null : $"p{i}", $"Title {i}", 2000 + i, doi: $"10.1/{i}")).ToList();
        _s2.AddReferences("DOI:10.2139/SSRN.2250500", cited);

        var first = await GetJsonAsync("graph/v1/paper/DOI:10.2139/ssrn.2250500/references?fields=title&offset=0&limit=3");
        var last = await GetJsonAsync("graph/v1/paper/DOI:10.2139%2Fssrn.2250500/references?fields=title&offset=3&limit=3");

        Assert.Equal((0, 3), ((int)first["offset"]!, (int)first["next"]!));
        Assert.Equal(["Title 0", "Title 1", "Title 2"], first["data"]!.AsArray().Select(d => (string?)d!["citedPaper"]!["title"]));
        Assert.False((bool)first["data"]![0]!["isInfluential"]!);
        Assert.Equal(3, (int)last["offset"]!);
        Assert.False(last.ContainsKey("next"));
        Assert.Equal(2, last["data"]!.AsArray().Count);
        Assert.Null(last["data"]![0]!["citedPaper"]!["paperId"]);
        Assert.Equal("10.1/4", (string?)last["data"]![1]!["citedPaper"]!["externalIds"]!["DOI"]);
    }

    [Fact]
    public async Task An_unknown_paper_is_404_JSON_and_a_limit_over_1000_is_400()
    {
        using var unknown = await _http.GetAsync("graph/v1/paper/DOI:10.9/none/references");
        _s2.AddReferences("CorpusId:1", []);
        using var tooMany = await _http.GetAsync("graph/v1/paper/CorpusID:1/references?limit=1001");

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("Paper with id DOI:10.9/none not found", (string?)(await unknown.Content.ReadFromJsonAsync<JsonObject>())!["error"]);
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        Assert.NotNull((await tooMany.Content.ReadFromJsonAsync<JsonObject>())!["error"]);
    }

    [Fact]
    public async Task A_batch_answers_in_order_with_null_for_an_unknown_id_and_refuses_over_500_ids()
    {
        _s2.AddPaper("DOI:10.1093/MIND/LIX.236.433", SemanticScholarDouble.Paper("2d56", "Computing Machinery and Intelligence", 1950, authors: ["A. Turing"]));

        using var batch = await _http.PostAsJsonAsync("graph/v1/paper/batch?fields=title,authors", new { ids = new[] { "CorpusId:211530585", "10.1093/mind/lix.236.433", "2d56" } });
        using var tooBig = await _http.PostAsJsonAsync("graph/v1/paper/batch", new { ids = Enumerable.Range(0, 501).Select(i => $"CorpusId:{i}") });

        var papers = (await batch.Content.ReadFromJsonAsync<JsonArray>())!;
        Assert.Equal(3, papers.Count);
        Assert.Null(papers[0]);
        Assert.Equal("Computing Machinery and Intelligence", (string?)papers[1]!["title"]);
        Assert.Equal("A. Turing", (string?)papers[1]!["authors"]![0]!["name"]);
        Assert.Equal("", (string?)papers[1]!["venue"]);
        Assert.False(papers[1]!["externalIds"]!.AsObject().ContainsKey("DOI"));
        Assert.Equal("2d56", (string?)papers[2]!["paperId"]);
        Assert.Equal(HttpStatusCode.BadRequest, tooBig.StatusCode);
        Assert.NotNull((await tooBig.Content.ReadFromJsonAsync<JsonObject>())!["error"]);
    }

    [Fact]
    public async Task A_request_sooner_than_the_rate_answers_429_with_Retry_After_and_coming_back_early_is_counted()
    {
        _s2.RatePerSecond = 1;
        _s2.RetryAfterSeconds = 2;
        _s2.AddPaper("CorpusId:7", SemanticScholarDouble.Paper("p7", "T", null));

        using var accepted = await _http.GetAsync("graph/v1/paper/CorpusId:7");
        using var tooEarly = await _http.GetAsync("graph/v1/paper/CorpusId:7");
        using var again = await _http.GetAsync("graph/v1/paper/CorpusId:7");

        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, tooEarly.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(2), tooEarly.Headers.RetryAfter?.Delta);
        var body = (await tooEarly.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("429", (string?)body["code"]);
        Assert.StartsWith("Too Many Requests.", (string?)body["message"], StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.TooManyRequests, again.StatusCode);
        Assert.Equal((2, 0, 1), (_s2.TooEarly429, _s2.Forced429, _s2.RetryAfterViolations));
        Assert.Equal([200, 429, 429], _s2.Calls.Select(c => c.Status));
    }

    [Fact]
    public async Task Forced_429s_are_counted_apart_from_too_early_ones()
    {
        _s2.ForceTooManyRequests = 1;
        _s2.RetryAfterSeconds = 0;
        _s2.AddReferences("p1", []);

        using var forced = await _http.GetAsync("graph/v1/paper/p1/references");
        using var next = await _http.GetAsync("graph/v1/paper/p1/references");

        Assert.Equal(HttpStatusCode.TooManyRequests, forced.StatusCode);
        Assert.NotNull(forced.Headers.RetryAfter);
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Equal((0, 1), (_s2.TooEarly429, _s2.Forced429));
    }

    [Fact]
    public async Task Without_the_required_api_key_the_answer_is_403()
    {
        _s2.RequiredApiKey = "secret";
        _s2.AddReferences("p1", []);

        using var without = await _http.GetAsync("graph/v1/paper/p1/references");
        using var request = new HttpRequestMessage(HttpMethod.Get, "graph/v1/paper/p1/references");
        request.Headers.Add("x-api-key", "secret");
        using var with = await _http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, without.StatusCode);
        Assert.Equal("Forbidden", (string?)(await without.Content.ReadFromJsonAsync<JsonObject>())!["message"]);
        Assert.Equal(HttpStatusCode.OK, with.StatusCode);
        Assert.Equal([null, "secret"], _s2.Calls.Select(c => c.ApiKey));
    }

    private async Task<JsonObject> GetJsonAsync(string path)
    {
        using var response = await _http.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }
}
