using Chive.IndexWorker.Search;
using Chive.Testing.Doubles;
using Elastic.Clients.Elasticsearch;
using Microsoft.Extensions.Logging.Abstractions;

namespace Chive.UnitTests.Search;

/// <summary>
/// The IndexWorker's search writer through Elastic's official client, against the Elasticsearch double only: these
/// tests read the stored index definition and inject failures, which a real cluster cannot be asked to do. (The
/// scan and DID sync tests write through the same writer and run against a real cluster when
/// CHIVE_TEST_ELASTICSEARCH_URL is set.)
/// </summary>
public sealed class SearchWriterTests : IAsyncLifetime
{
    private ElasticsearchDouble _double = null!;
    private SearchWriter _writer = null!;

    public async Task InitializeAsync()
    {
        _double = await ElasticsearchDouble.StartNewAsync();
        _writer = new SearchWriter(new ElasticsearchClient(new ElasticsearchClientSettings(_double.BaseAddress)), NullLogger<SearchWriter>.Instance);
    }

    public async Task DisposeAsync() => await _double.DisposeAsync();

    [Fact]
    public async Task A_write_after_someone_removed_the_alias_creates_nothing_behind_our_back_and_its_retry_restores_the_mapping()
    {
        await _writer.WriteAsync([Doc("1")], [], CancellationToken.None);
        using (var client = new HttpClient { BaseAddress = _double.BaseAddress })
        {
            (await client.DeleteAsync("/" + SearchWriter.FirstIndex)).EnsureSuccessStatusCode(); // the alias goes with it
        }

        await Assert.ThrowsAsync<SearchAliasMissingException>(() => _writer.WriteAsync([Doc("2")], [], CancellationToken.None));
        Assert.Empty(_double.Indices); // no "eprints" index with dynamic mapping appeared

        Assert.Equal(0, await _writer.WriteAsync([Doc("2")], [], CancellationToken.None)); // the batch's retry
        Assert.Equal(SearchWriter.FirstIndex, _double.AliasTarget(SearchWriter.Alias));
        Assert.Equal("strict", _double.Definition(SearchWriter.FirstIndex)!["mappings"]!["dynamic"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_first_write_creates_the_versioned_index_behind_the_alias_with_the_repos_mapping()
    {
        Assert.Equal(0, await _writer.WriteAsync([Doc("1"), Doc("2")], [], CancellationToken.None));

        Assert.Equal(SearchWriter.FirstIndex, _double.AliasTarget(SearchWriter.Alias));
        var definition = _double.Definition(SearchWriter.FirstIndex)!;
        Assert.Equal("strict", definition["mappings"]!["dynamic"]!.GetValue<string>());
        Assert.Equal("keyword", definition["mappings"]!["properties"]!["uri"]!["type"]!.GetValue<string>());
        Assert.Equal(["at://did:plc:x/pub.chive.eprint.submission/1", "at://did:plc:x/pub.chive.eprint.submission/2"],
            _double.Documents(SearchWriter.Alias).Keys.Order(StringComparer.Ordinal));

        // Deleting one present and one absent document: the absent one is not an error.
        Assert.Equal(0, await _writer.WriteAsync([], ["at://did:plc:x/pub.chive.eprint.submission/1", "at://did:plc:x/pub.chive.eprint.submission/9"], CancellationToken.None));
        Assert.Equal(["at://did:plc:x/pub.chive.eprint.submission/2"], _double.Documents(SearchWriter.Alias).Keys);
    }

    [Fact]
    public async Task Item_errors_are_counted_back_pressure_is_sat_out_and_a_gone_cluster_fails_the_batch()
    {
        _double.FailDocument = id => id.EndsWith("/2", StringComparison.Ordinal);
        Assert.Equal(1, await _writer.WriteAsync([Doc("1"), Doc("2"), Doc("3")], [], CancellationToken.None));

        // One 429: sat out, then the items go again and succeed.
        _double.RejectNextBulk = true;
        Assert.Equal(0, await _writer.WriteAsync([Doc("4")], [], CancellationToken.None));
        Assert.Contains("at://did:plc:x/pub.chive.eprint.submission/4", _double.Documents(SearchWriter.Alias).Keys);

        // A cluster that is gone makes the batch fail (and be retried by its consumer).
        await _double.DisposeAsync();
        await Assert.ThrowsAsync<SearchUnavailableException>(() => _writer.WriteAsync([Doc("5")], [], CancellationToken.None));
    }

    private static IndexableEprintDocument Doc(string rkey) => new(
        $"at://did:plc:x/pub.chive.eprint.submission/{rkey}", "bafyreib", $"Title {rkey}", null, [], new SearchAuthor("did:plc:x", null, null), [], [],
        "did:plc:x", null, "CC-BY-4.0", null, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch);
}
