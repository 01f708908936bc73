using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Chive.AtProto.Identifiers;
using Chive.AtProto.Xrpc;
using Chive.Testing;
using Chive.Testing.Doubles;

namespace Chive.UnitTests.AtProto;

/// <summary>
/// Whatever a hostile server answers, the client ends with a typed error (or a typed, bounded result) — never an
/// untyped exception, never a hang — and the failure is charged to that host.
/// </summary>
public sealed class HostileAnswerTests : IAsyncLifetime
{
    private static readonly Did Alice = Did.Parse("did:plc:abcdefghijklmnopqrstuvwx");
    private static readonly Nsid Submissions = Nsid.Parse("pub.chive.eprint.submission");
    private HostilePds _pds = null!;

    public async Task InitializeAsync() => _pds = await HostilePds.StartNewAsync();

    public async Task DisposeAsync() => await _pds.DisposeAsync();

    private static XrpcClient Client(Action<XrpcOptions>? configure = null) => TestClients.Xrpc(TestClients.FastOptions(o =>
    {
        o.MaxRetries = 0;
        o.RequestTimeout = TimeSpan.FromSeconds(2);
        configure?.Invoke(o);
    }));

    private Task<XrpcException> ListFailsAsync(XrpcClient client) =>
        Assert.ThrowsAsync<XrpcException>(() => client.ListRecordsPageAsync(_pds.BaseAddress, Alice, Submissions));

    [Fact]
    public async Task Invalid_UTF8_is_a_malformed_response()
    {
        _pds.Methods["com.atproto.repo.listRecords"] = _ => HostilePds.Answer.Raw([.. Encoding.UTF8.GetBytes("{\"records\":[],\"cursor\":\""), 0xFF, 0xFE, .. Encoding.UTF8.GetBytes("\"}")]);
        Assert.Equal(XrpcErrorKind.MalformedResponse, (await ListFailsAsync(Client())).Kind);
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("{\"records\":")]
    [InlineData("[]")]
    [InlineData("{\"records\":{}}")]
    [InlineData("{\"records\":\"many\"}")]
    public async Task A_body_that_is_not_the_expected_JSON_is_a_malformed_response(string body)
    {
        _pds.Methods["com.atproto.repo.listRecords"] = _ => HostilePds.Answer.Raw(body);
        Assert.Equal(XrpcErrorKind.MalformedResponse, (await ListFailsAsync(Client())).Kind);
    }

    [Fact]
    public async Task A_body_that_stalls_after_its_headers_is_a_timeout_within_the_attempt_timeout()
    {
        _pds.Methods["com.atproto.repo.listRecords"] = _ => HostilePds.Answer.Json(new JsonObject { ["records"] = new JsonArray() }) with { StallAfterHeaders = TimeSpan.FromMinutes(5) };
        var watch = Stopwatch.StartNew();
        Assert.Equal(XrpcErrorKind.Timeout, (await ListFailsAsync(Client())).Kind);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task A_body_that_ends_before_its_declared_length_is_unreachable()
    {
        _pds.Methods["com.atproto.repo.listRecords"] = _ => HostilePds.Answer.Json(new JsonObject { ["records"] = new JsonArray() }) with { ShortBy = 100 };
        Assert.Equal(XrpcErrorKind.Unreachable, (await ListFailsAsync(Client())).Kind);
    }

    [Fact]
    public async Task A_body_over_the_cap_without_a_declared_length_is_too_large()
    {
        var huge = "{\"records\":[],\"pad\":\"" + new string('x', 300_000) + "\"}";
        _pds.Methods["com.atproto.repo.listRecords"] = _ => HostilePds.Answer.Raw(huge);
        Assert.Equal(XrpcErrorKind.ResponseTooLarge, (await ListFailsAsync(Client(o => o.MaxJsonBytes = 100_000))).Kind);
    }

    [Fact]
    public async Task Nesting_deeper_than_any_record_is_a_malformed_response()
    {
        var deep = "{\"records\":[],\"x\":" + new string('[', 5000) + new string(']', 5000) + "}";
        _pds.Methods["com.atproto.repo.listRecords"] = _ => HostilePds.Answer.Raw(deep);
        Assert.Equal(XrpcErrorKind.MalformedResponse, (await ListFailsAsync(Client())).Kind);
    }

    [Theory]
    [InlineData("99999999999999999999")]   // does not fit a long: ignored
    [InlineData("-5")]                     // in the past: ignored
    [InlineData("soon")]                   // not a number: ignored
    [InlineData("1")]                      // one second: honoured, briefly
    public async Task Rate_limit_headers_that_make_no_sense_are_ignored_and_the_next_call_goes_ahead(string reset)
    {
        var headers = new Dictionary<string, string> { ["RateLimit-Remaining"] = "0", ["RateLimit-Reset"] = reset, ["Retry-After"] = "-3" };
        _pds.Methods["com.atproto.repo.listRecords"] = _ => HostilePds.Answer.Json(new JsonObject { ["records"] = new JsonArray() }, headers: headers);
        var client = Client();

        await client.ListRecordsPageAsync(_pds.BaseAddress, Alice, Submissions);
        var watch = Stopwatch.StartNew();
        await client.ListRecordsPageAsync(_pds.BaseAddress, Alice, Submissions);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"the second call waited {watch.Elapsed}");
    }

    [Theory]
    [InlineData("RateLimit-Reset", "253402300800")]   // year 10000: an absurd epoch
    [InlineData("RateLimit-Reset", "9999999999")]     // year 2286
    [InlineData("Retry-After", "999999999")]          // thirty years, as a delta
    public async Task A_host_asking_for_an_absurd_wait_gets_a_typed_rate_limit_at_once(string header, string value)
    {
        var headers = new Dictionary<string, string> { [header] = value, ["RateLimit-Remaining"] = "0" };
        _pds.Methods["com.atproto.repo.listRecords"] = _ => HostilePds.Answer.Json(new JsonObject { ["records"] = new JsonArray() }, headers: headers);
        var client = Client();
        await client.ListRecordsPageAsync(_pds.BaseAddress, Alice, Submissions);

        var watch = Stopwatch.StartNew();
        Assert.Equal(XrpcErrorKind.RateLimited, (await ListFailsAsync(client)).Kind);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task A_server_message_is_cleaned_and_capped_before_it_reaches_logs_and_errors()
    {
        var message = "line one\nline two\u0007\u001b[31m" + new string('!', 5000);
        _pds.Methods["com.atproto.repo.listRecords"] = _ => HostilePds.Answer.Json(new JsonObject { ["error"] = "InvalidRequest", ["message"] = message }, status: 400);

        var error = await ListFailsAsync(Client());

        Assert.Equal(XrpcErrorKind.InvalidRequest, error.Kind);
        Assert.True(error.ServerMessage.Length <= 301, $"{error.ServerMessage.Length} characters");
        Assert.DoesNotContain(error.ServerMessage, char.IsControl);
    }

    [Fact]
    public async Task Records_of_another_repo_or_collection_are_dropped_and_counted_as_foreign()
    {
        _pds.Methods["com.atproto.repo.listRecords"] = _ => HostilePds.Answer.Json(new JsonObject
        {
            ["records"] = new JsonArray(
                HostilePds.Record($"at://{Alice}/pub.chive.eprint.submission/3kaaaaaaaaaaa", new JsonObject { ["title"] = "mine" }),
                HostilePds.Record("at://did:plc:zzzzzzzzzzzzzzzzzzzzzzzz/pub.chive.eprint.submission/3kbbbbbbbbbbb", new JsonObject { ["title"] = "someone else's" }),
                HostilePds.Record($"at://{Alice}/pub.chive.review.comment/3kccccccccccc", new JsonObject { ["title"] = "another collection" }),
                HostilePds.Record("not a uri", new JsonObject()),
                HostilePds.Record($"at://{Alice}/pub.chive.eprint.submission/3kddddddddddd", JsonValue.Create("a value that is not an object"))),
        });

        var page = await Client().ListRecordsPageAsync(_pds.BaseAddress, Alice, Submissions);

        Assert.Equal(["mine"], page.Records.Select(r => r.Value.GetProperty("title").GetString()));
        Assert.Equal((2, 2), (page.ForeignEntries, page.InvalidEntries));
        Assert.False(page.IsClean);
    }

    [Fact]
    public async Task A_describeRepo_about_another_repo_is_a_malformed_response()
    {
        _pds.Methods["com.atproto.repo.describeRepo"] = _ => HostilePds.Answer.Json(new JsonObject
        {
            ["did"] = "did:plc:zzzzzzzzzzzzzzzzzzzzzzzz",
            ["handle"] = "x.test",
            ["collections"] = new JsonArray(),
        });
        var error = await Assert.ThrowsAsync<XrpcException>(() => Client().DescribeRepoAsync(_pds.BaseAddress, Alice));
        Assert.Equal(XrpcErrorKind.MalformedResponse, error.Kind);
    }

    [Fact]
    public async Task Malformed_answers_count_against_the_host_and_open_its_circuit()
    {
        _pds.Methods["com.atproto.repo.listRecords"] = _ => HostilePds.Answer.Raw("garbage");
        var client = Client(o => o.CircuitFailureThreshold = 3);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(XrpcErrorKind.MalformedResponse, (await ListFailsAsync(client)).Kind);
        }

        Assert.Equal(XrpcErrorKind.CircuitOpen, (await ListFailsAsync(client)).Kind);
    }

    [Fact]
    public async Task A_blob_that_stalls_midway_is_a_timeout_for_its_reader()
    {
        _pds.Methods["com.atproto.sync.getBlob"] = _ => new HostilePds.Answer(200, new byte[64 * 1024], "application/pdf") { StallAfterHeaders = TimeSpan.FromMinutes(5) };
        await using var blob = await Client().GetBlobAsync(_pds.BaseAddress, Alice, Cid.Parse(HostilePds.Cid));

        var error = await Assert.ThrowsAsync<XrpcException>(() => blob.CopyToAsync(Stream.Null));
        Assert.Equal(XrpcErrorKind.Timeout, error.Kind);
    }

    [Fact]
    public async Task A_DID_directory_that_accepts_the_connection_and_never_answers_fails_the_resolution_within_its_deadline()
    {
        using var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start(); // accepts connections (the backlog) and never says a word
        var plc = new Uri($"http://127.0.0.1:{((System.Net.IPEndPoint)silent.LocalEndpoint).Port}/");
        var resolver = TestClients.Resolver(plc, o => o.ResolveTimeout = TimeSpan.FromSeconds(1),
            TestClients.Http(TestClients.FastOptions(o => o.RequestTimeout = TimeSpan.FromMinutes(5))));

        var watch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<Chive.AtProto.Identity.DidResolutionException>(() => resolver.ResolveAsync(Alice));

        Assert.Equal(Chive.AtProto.Identity.DidResolutionError.Unreachable, error.Error);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), $"took {watch.Elapsed}");
    }
}
