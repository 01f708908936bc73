using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Chive.Testing.Doubles;

namespace Chive.UnitTests.Doubles;

/// <summary>
/// The Crossref double answers <c>/works/{doi}</c> in Crossref's envelope, reports the pool a client falls in on
/// every answer, and answers 429 to a client over its pool's concurrency or rate.
/// </summary>
public sealed class CrossrefDoubleTests : IAsyncLifetime
{
    private const string PoliteAgent = "Chive/1.0 (https://chive.pub; mailto:ops@chive.pub)";
    private CrossrefDouble _crossref = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _crossref = await CrossrefDouble.StartNewAsync();
        _http = new HttpClient { BaseAddress = _crossref.BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _crossref.DisposeAsync();
    }

    [Fact]
    public async Task A_registered_work_answers_in_the_envelope_whatever_the_case_and_escaping_of_the_DOI()
    {
        _crossref.AddWork("10.1371/journal.pone.0033693", CrossrefDouble.Work("10.1371/journal.pone.0033693", "Methylphenidate Exposure", 2012, "PLoS ONE",
            volume: "7", page: "e33693", authors: [("Shankar", "Sadasivan"), ("Brooks B.", "Pond")]));

        using var bare = await _http.GetAsync("works/10.1371/JOURNAL.PONE.0033693");
        using var escaped = await _http.GetAsync("works/10.1371%2Fjournal.pone.0033693");

        Assert.Equal(HttpStatusCode.OK, bare.StatusCode);
        Assert.Equal(HttpStatusCode.OK, escaped.StatusCode);
        var body = (await bare.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(("ok", "work", "1.0.0"), ((string?)body["status"], (string?)body["message-type"], (string?)body["message-version"]));
        var message = body["message"]!;
        Assert.Equal("Methylphenidate Exposure", (string?)message["title"]![0]);
        Assert.Equal("PLoS ONE", (string?)message["container-title"]![0]);
        Assert.Equal(2012, (int)message["published"]!["date-parts"]![0]![0]!);
        Assert.Equal(("7", "e33693"), ((string?)message["volume"], (string?)message["page"]));
        Assert.Equal(["first", "additional"], message["author"]!.AsArray().Select(a => (string?)a!["sequence"]));
        Assert.Equal("Pond", (string?)message["author"]![1]!["family"]);
        Assert.Equal(["10.1371/JOURNAL.PONE.0033693", "10.1371/journal.pone.0033693"], _crossref.Calls.Select(c => c.Doi));
    }

    [Fact]
    public async Task An_unknown_DOI_answers_404_text_with_the_pool_headers()
    {
        using var response = await _http.GetAsync("works/10.1371/notarealdoi");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Resource not found.", await response.Content.ReadAsStringAsync());
        Assert.Equal("public", response.Headers.GetValues("x-api-pool").Single());
    }

    [Fact]
    public async Task A_mailto_in_the_User_Agent_puts_the_client_in_the_polite_pool()
    {
        using var anonymous = await _http.GetAsync("works/10.1/x");
        using var request = new HttpRequestMessage(HttpMethod.Get, "works/10.1/x");
        request.Headers.TryAddWithoutValidation("User-Agent", PoliteAgent);
        using var polite = await _http.SendAsync(request);

        Assert.Equal(("public", "5", "1s", "1"), Pool(anonymous));
        Assert.Equal(("polite", "10", "1s", "3"), Pool(polite));
        Assert.Equal(["public", "polite"], _crossref.Calls.Select(c => c.Pool));
        Assert.Equal(PoliteAgent, _crossref.Calls[1].UserAgent);
    }

    [Fact]
    public async Task A_second_request_in_flight_in_the_public_pool_answers_429()
    {
        _crossref.ProcessingDelay = TimeSpan.FromSeconds(3);

        async Task<HttpStatusCode> GetAsync()
        {
            using var response = await _http.GetAsync("works/10.1/x");
            return response.StatusCode;
        }

        // The second request is sent once the first is in flight (sent together on a loaded machine, the first could
        // be over before the second arrives).
        var first = GetAsync();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (_crossref.MaxInFlight == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        var second = await GetAsync();

        Assert.Equal((HttpStatusCode.NotFound, HttpStatusCode.TooManyRequests), (await first, second));
        Assert.Equal(1, _crossref.MaxInFlight);
        Assert.Equal(1, _crossref.TooManyRequests);
    }

    [Fact]
    public async Task More_requests_within_a_second_than_the_rate_answer_429()
    {
        _crossref.PublicRate = 3;

        var statuses = new List<int>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await _http.GetAsync("works/10.1/x");
            statuses.Add((int)response.StatusCode);
        }

        Assert.Equal([404, 404, 404, 429], statuses);
        Assert.Equal(1, _crossref.TooManyRequests);
    }

    private static (string Pool, string Limit, string Interval, string Concurrency) Pool(HttpResponseMessage response) =>
        (response.Headers.GetValues("x-api-pool").Single(),
         response.Headers.GetValues("x-rate-limit-limit").Single(),
         response.Headers.GetValues("x-rate-limit-interval").Single(),
         response.Headers.GetValues("x-concurrency-limit").Single());
}
