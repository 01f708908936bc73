using System.Text.Json.Nodes;
using Chive.AdminApi.OperationTypes;
using Chive.Contracts;
using Microsoft.Extensions.DependencyInjection;

namespace Chive.UnitTests.OperationTypes;

/// <summary>The descriptors: which types are available, and what each accepts as input (scope and metadata) or refuses.</summary>
public sealed class OperationTypeTests
{
    private static readonly OperationTypeRegistry Registry =
        new ServiceCollection().AddOperationTypes().BuildServiceProvider().GetRequiredService<OperationTypeRegistry>();

    [Fact]
    public void The_six_types_are_available_and_nothing_else()
    {
        Assert.Equal(BackfillOperationType.All, BackfillOperationType.All.Where(Registry.IsAvailable));
        Assert.Null(Registry.Find("everything"));
    }

    [Fact]
    public void A_descriptor_for_a_type_the_API_does_not_know_stops_start_up()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new OperationTypeRegistry([new UnknownType()]));
        Assert.Contains("'everything'", error.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, string, string, string> Accepted() => new()
    {
        // type, body, scope, metadata (k=v;k=v, sorted)
        { BackfillOperationType.GovernanceSync, "{}", "*", "" },
        { BackfillOperationType.GovernanceSync, "{\"ignored\":1}", "*", "" },
        { BackfillOperationType.PdsScan, "{}", "*", "" },
        { BackfillOperationType.PdsScan, "{\"pdsUrl\":null}", "*", "" },
        { BackfillOperationType.PdsScan, "{\"pdsUrl\":\"https://PDS.Example.com:443/\"}", "https://pds.example.com", "pdsUrl=https://pds.example.com" },
        { BackfillOperationType.PdsScan, "{\"pdsUrl\":\"http://pds.example.com:2583\"}", "http://pds.example.com:2583", "pdsUrl=http://pds.example.com:2583" },
        { BackfillOperationType.PdsScan, "{\"force\":true}", "*", "force=true" },
        { BackfillOperationType.PdsScan, "{\"force\":false}", "*", "" },
        { BackfillOperationType.PdsScan, "{\"pdsUrl\":\"https://pds.example.com\",\"force\":true}", "https://pds.example.com", "force=true;pdsUrl=https://pds.example.com" },
        { BackfillOperationType.DidSync, "{\"did\":\"did:plc:abcdefghijklmnopqrstuvwx\"}", "did:plc:abcdefghijklmnopqrstuvwx", "did=did:plc:abcdefghijklmnopqrstuvwx" },
        { BackfillOperationType.DidSync, "{\"did\":\"did:web:example.com\"}", "did:web:example.com", "did=did:web:example.com" },
        { BackfillOperationType.FullReindex, "{}", "*", "batchSize=500" },
        { BackfillOperationType.FullReindex, "{\"batchSize\":1}", "*", "batchSize=1" },
        { BackfillOperationType.FullReindex, "{\"batchSize\":10000}", "*", "batchSize=10000" },
        { BackfillOperationType.GovernanceSync, "{\"force\":true}", "*", "force=true" },
        { BackfillOperationType.GovernanceSync, "{\"force\":false}", "*", "" },
        { BackfillOperationType.FreshnessScan, "{}", "due", "tier=due" },
        { BackfillOperationType.FreshnessScan, "{\"tier\":\"urgent\"}", "urgent", "tier=urgent" },
        { BackfillOperationType.FreshnessScan, "{\"tier\":\"background\"}", "background", "tier=background" },
        { BackfillOperationType.FreshnessScan, "{\"tier\":\"all\"}", "all", "tier=all" },
        { BackfillOperationType.CitationExtraction, "{}", "*", "force=false" },
        { BackfillOperationType.CitationExtraction, "{\"force\":true}", "*", "force=true" },
        { BackfillOperationType.CitationExtraction, "{\"uri\":null,\"force\":false}", "*", "force=false" },
        {
            BackfillOperationType.CitationExtraction, "{\"uri\":\"at://did:plc:abcdefghijklmnopqrstuvwx/pub.chive.eprint.submission/3k2aaaaaaaa2a\"}",
            "at://did:plc:abcdefghijklmnopqrstuvwx/pub.chive.eprint.submission/3k2aaaaaaaa2a",
            "force=false;uri=at://did:plc:abcdefghijklmnopqrstuvwx/pub.chive.eprint.submission/3k2aaaaaaaa2a"
        },
    };

    [Theory]
    [MemberData(nameof(Accepted))]
    public async Task An_acceptable_input_gives_the_scope_and_metadata(string type, string body, string scope, string metadata)
    {
        var check = await Registry.Find(type)!.CheckInputAsync(JsonNode.Parse(body)!.AsObject(), CancellationToken.None);

        Assert.NotNull(check.Input);
        Assert.Equal(scope, check.Input.Scope);
        Assert.Equal(metadata, string.Join(';', check.Input.Metadata.OrderBy(p => p.Key).Select(p => $"{p.Key}={p.Value}")));
    }

    public static TheoryData<string, string> Refused() => new()
    {
        { BackfillOperationType.PdsScan, "{\"pdsUrl\":\"https://pds.example.com/xrpc\"}" },
        { BackfillOperationType.PdsScan, "{\"pdsUrl\":\"ftp://pds.example.com\"}" },
        { BackfillOperationType.PdsScan, "{\"pdsUrl\":\"pds.example.com\"}" },
        { BackfillOperationType.PdsScan, "{\"pdsUrl\":\"https://user:secret@pds.example.com\"}" },
        { BackfillOperationType.PdsScan, "{\"pdsUrl\":5}" },
        { BackfillOperationType.PdsScan, "{\"force\":\"yes\"}" },
        { BackfillOperationType.PdsScan, "{\"pdsUrl\":\"https://pds.example.com\",\"force\":1}" },
        { BackfillOperationType.PdsScan, "{\"pdsUrl\":[\"https://pds.example.com\"]}" },
        { BackfillOperationType.DidSync, "{}" },
        { BackfillOperationType.DidSync, "{\"did\":null}" },
        { BackfillOperationType.DidSync, "{\"did\":\"did:key:z6Mkabc\"}" },
        { BackfillOperationType.DidSync, "{\"did\":\"not a did\"}" },
        { BackfillOperationType.DidSync, "{\"did\":{\"id\":\"did:plc:abcdefghijklmnopqrstuvwx\"}}" },
        { BackfillOperationType.FullReindex, "{\"batchSize\":0}" },
        { BackfillOperationType.FullReindex, "{\"batchSize\":10001}" },
        { BackfillOperationType.FullReindex, "{\"batchSize\":-1}" },
        { BackfillOperationType.FullReindex, "{\"batchSize\":2.5}" },
        { BackfillOperationType.FullReindex, "{\"batchSize\":\"500\"}" },
        { BackfillOperationType.FullReindex, "{\"batchSize\":true}" },
        { BackfillOperationType.FullReindex, "{\"batchSize\":1e99}" },
        { BackfillOperationType.GovernanceSync, "{\"force\":\"yes\"}" },
        { BackfillOperationType.GovernanceSync, "{\"force\":1}" },
        { BackfillOperationType.FreshnessScan, "{\"tier\":\"soon\"}" },
        { BackfillOperationType.FreshnessScan, "{\"tier\":\"due\"}" },
        { BackfillOperationType.FreshnessScan, "{\"tier\":\"URGENT\"}" },
        { BackfillOperationType.FreshnessScan, "{\"tier\":3}" },
        { BackfillOperationType.CitationExtraction, "{\"uri\":\"https://example.com/paper.pdf\"}" },
        { BackfillOperationType.CitationExtraction, "{\"uri\":\"at://not a did/pub.chive.eprint.submission/x\"}" },
        { BackfillOperationType.CitationExtraction, "{\"uri\":5}" },
        { BackfillOperationType.CitationExtraction, "{\"force\":\"yes\"}" },
    };

    [Fact]
    public async Task A_citation_extraction_of_a_record_that_is_not_an_eprint_is_refused_saying_so()
    {
        var check = await Registry.Find(BackfillOperationType.CitationExtraction)!.CheckInputAsync(
            new JsonObject { ["uri"] = "at://did:plc:abcdefghijklmnopqrstuvwx/pub.chive.review.comment/3k2aaaaaaaa2a" }, CancellationToken.None);

        Assert.Null(check.Input);
        Assert.Equal("uri must name an eprint (pub.chive.eprint.submission), not pub.chive.review.comment", check.Refusal);
    }

    public static TheoryData<string> PrivatePdsUrls() => new()
    {
        "http://127.0.0.1:2583",
        "http://localhost:2583",
        "http://10.1.2.3",
        "http://169.254.169.254",
        "http://[::1]:2583",
        "http://[::127.0.0.1]",
        "http://[::ffff:0:127.0.0.1]",
        "http://[64:ff9b:1::a00:1]",
        "http://0x7f.1",
        "http://0177.0.0.1",
        "http://127.1",
        "http://2130706433",
        "http://0x08.0x08.0x08.0x08",
    };

    [Theory]
    [MemberData(nameof(PrivatePdsUrls))]
    public async Task A_pdsUrl_the_SSRF_guard_forbids_is_refused_when_triggered_with_the_reason(string url)
    {
        var check = await Registry.Find(BackfillOperationType.PdsScan)!.CheckInputAsync(new JsonObject { ["pdsUrl"] = url }, CancellationToken.None);

        Assert.Null(check.Input);
        Assert.Contains("is not a PDS this service may read", check.Refusal, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task An_unacceptable_input_is_refused_and_the_hint_says_what_is_acceptable(string type, string body)
    {
        var descriptor = Registry.Find(type)!;

        var check = await descriptor.CheckInputAsync(JsonNode.Parse(body)!.AsObject(), CancellationToken.None);

        Assert.Null(check.Input);
        Assert.StartsWith("the body must be", check.Refusal ?? descriptor.InputHint, StringComparison.Ordinal);
    }

    private sealed class UnknownType : IOperationType
    {
        public string Name => "everything";

        public string InputHint => "";

        public ValueTask<InputCheck> CheckInputAsync(JsonObject input, CancellationToken cancellationToken) => ValueTask.FromResult(InputCheck.Refuse());

        public Task StartAsync(MassTransit.IPublishEndpoint publish, Chive.AdminApi.Operations.BackfillOperation operation) => Task.CompletedTask;
    }
}
