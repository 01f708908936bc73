using Chive.Testing.Doubles;
using Elastic.Clients.Elasticsearch;
using Elastic.Clients.Elasticsearch.IndexManagement;
using Elastic.Transport;

namespace Chive.UnitTests.Search;

/// <summary>
/// The Elasticsearch double speaks the wire format Elastic's official .NET client (the one the IndexWorker uses)
/// requires: the client's own calls succeed and read back what was written. With CHIVE_TEST_ELASTICSEARCH_URL set,
/// the same tests run against that real Elasticsearch instead.
/// </summary>
public sealed class ElasticsearchDoubleTests : IAsyncLifetime
{
    private ElasticsearchDouble? _double;
    private ElasticsearchClient _client = null!;
    private readonly string _prefix = $"chive-test-{Guid.NewGuid():N}"[..20];

    public async Task InitializeAsync()
    {
        var real = Environment.GetEnvironmentVariable("CHIVE_TEST_ELASTICSEARCH_URL");
        Uri url;
        if (string.IsNullOrEmpty(real))
        {
            _double = await ElasticsearchDouble.StartNewAsync();
            url = _double.BaseAddress;
        }
        else
        {
            url = new Uri(real);
        }

        _client = new ElasticsearchClient(new ElasticsearchClientSettings(url).DisableDirectStreaming());
    }

    public async Task DisposeAsync()
    {
        await _client.Indices.DeleteAsync($"{_prefix}-*");
        if (_double is not null)
        {
            await _double.DisposeAsync();
        }
    }

    [Fact]
    public async Task Bulk_with_require_alias_to_a_name_that_is_not_an_alias_creates_nothing_and_fails_each_item()
    {
        var target = $"{_prefix}-not-an-alias";

        var response = await _client.BulkAsync(new Elastic.Clients.Elasticsearch.BulkRequest(target)
        {
            RequireAlias = true,
            Operations = new Elastic.Clients.Elasticsearch.Core.Bulk.BulkOperationsCollection
            {
                new Elastic.Clients.Elasticsearch.Core.Bulk.BulkIndexOperation<Dictionary<string, string>>(new() { ["title"] = "x" }) { Id = "1" },
            },
        });

        Assert.True(response.Errors);
        Assert.Equal("index_not_found_exception", Assert.Single(response.ItemsWithErrors).Error?.Type);
        Assert.False((await _client.Indices.ExistsAsync(target)).Exists);
    }

    [Fact]
    public async Task Deleting_an_index_takes_its_aliases_with_it()
    {
        var index = $"{_prefix}-with-alias";
        Assert.True((await _client.Indices.CreateAsync(index, c => c.Aliases(a => a.Add($"{index}-alias", new Alias())))).IsValidResponse);
        Assert.Equal(200, await AliasStatusAsync($"{index}-alias"));

        await _client.Indices.DeleteAsync(index);

        Assert.Equal(404, await AliasStatusAsync($"{index}-alias"));
    }

    private async Task<int?> AliasStatusAsync(string alias) =>
        (await _client.Transport.RequestAsync<StringResponse>(Elastic.Transport.HttpMethod.GET, $"/_alias/{alias}", CancellationToken.None)).ApiCallDetails.HttpStatusCode;

    [Fact]
    public async Task Index_bulk_count_get_and_delete_through_the_official_client()
    {
        var index = $"{_prefix}-v1";
        Assert.False((await _client.Indices.ExistsAsync(index)).Exists);
        Assert.True((await _client.Indices.CreateAsync(index)).IsValidResponse);
        Assert.True((await _client.Indices.ExistsAsync(index)).Exists);

        var docs = Enumerable.Range(0, 25).Select(i => new TestDoc($"at://did:plc:x/pub.chive.eprint.submission/{i}", $"Title {i}")).ToList();
        var bulk = await _client.BulkAsync(b => b.Index(index).IndexMany(docs, (op, d) => op.Id(d.Uri)));
        Assert.True(bulk.IsValidResponse, bulk.DebugInformation);
        Assert.False(bulk.Errors);
        Assert.Equal(25, bulk.Items.Count);

        await _client.Indices.RefreshAsync(index);
        Assert.Equal(25, (await _client.CountAsync<TestDoc>(c => c.Indices(index))).Count);
        var got = await _client.GetAsync<TestDoc>(docs[3].Uri, g => g.Index(index));
        Assert.True(got.Found);
        Assert.Equal("Title 3", got.Source!.Title);

        var delete = await _client.BulkAsync(b => b.Index(index).DeleteMany<TestDoc>(docs.Take(5), (op, d) => op.Id(d.Uri)));
        Assert.False(delete.Errors);
        await _client.Indices.RefreshAsync(index);
        Assert.Equal(20, (await _client.CountAsync<TestDoc>(c => c.Indices(index))).Count);
    }

    [Fact]
    public async Task An_alias_swaps_atomically_between_index_versions()
    {
        var alias = $"{_prefix}-live";
        var v1 = $"{_prefix}-v1";
        var v2 = $"{_prefix}-v2";
        await _client.Indices.CreateAsync(v1);
        await _client.Indices.CreateAsync(v2);
        Assert.True((await _client.Indices.UpdateAliasesAsync(u => u.Actions(a => a.Add(x => x.Index(v1).Alias(alias))))).IsValidResponse);
        await _client.BulkAsync(b => b.Index(v2).IndexMany([new TestDoc("at://did:plc:x/c/1", "new")], (op, d) => op.Id(d.Uri)));

        var swap = await _client.Indices.UpdateAliasesAsync(u => u.Actions(
            a => a.Remove(x => x.Index(v1).Alias(alias)),
            a => a.Add(x => x.Index(v2).Alias(alias))));
        Assert.True(swap.IsValidResponse, swap.DebugInformation);

        var aliases = await _client.Indices.GetAliasAsync(new GetAliasRequest(Names.Parse(alias)));
        Assert.Equal([v2], aliases.Aliases!.Keys.Select(k => k.ToString()));
        Assert.Equal(1, (await _client.CountAsync<TestDoc>(c => c.Indices(alias))).Count);
    }

    [Fact]
    public async Task Per_item_failures_and_429_back_pressure_are_reported_as_Elasticsearch_reports_them()
    {
        if (_double is null)
        {
            return; // failure injection exists only in the double
        }

        var index = $"{_prefix}-v1";
        _double.FailDocument = id => id.EndsWith("/7", StringComparison.Ordinal);
        var docs = Enumerable.Range(0, 10).Select(i => new TestDoc($"at://did:plc:x/c/{i}", $"T{i}")).ToList();

        var bulk = await _client.BulkAsync(b => b.Index(index).IndexMany(docs, (op, d) => op.Id(d.Uri)));
        Assert.True(bulk.Errors);
        var failed = Assert.Single(bulk.ItemsWithErrors);
        Assert.Equal(400, failed.Status);
        Assert.Equal("mapper_parsing_exception", failed.Error!.Type);

        _double.RejectNextBulk = true;
        var rejected = await _client.BulkAsync(b => b.Index(index).IndexMany(docs, (op, d) => op.Id(d.Uri)));
        Assert.False(rejected.IsValidResponse);
        Assert.Equal(429, rejected.ApiCallDetails.HttpStatusCode);
    }

    private sealed record TestDoc(string Uri, string Title);
}
