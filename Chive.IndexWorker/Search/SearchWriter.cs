using System.Text.Json.Nodes;
using Elastic.Clients.Elasticsearch;
using Elastic.Clients.Elasticsearch.Core.Bulk;
using Elastic.Transport;

namespace Chive.IndexWorker.Search;

/// <summary>Raised when Elasticsearch refused a whole request (unreachable, 5xx) or kept answering 429: the batch is retried.</summary>
public class SearchUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The alias a write went to does not exist (any more): nothing was written, and nothing was created in its place.</summary>
public sealed class SearchAliasMissingException(string alias) : SearchUnavailableException($"the search alias '{alias}' does not exist: nothing was written");

/// <summary>
/// Writes eprint documents with <c>_bulk</c> (document id = AT-URI) and deletes them, always through an alias and with
/// <c>require_alias</c>, so Elasticsearch can never create an index with no mapping behind our back: the pipeline through
/// the <c>eprints</c> alias (the first write creates <c>eprints-v1</c> from <c>Search/eprints-index.json</c> behind it
/// when no alias exists yet; a write that finds the alias gone forgets it, so the retry creates it again), the full
/// reindex through the build alias of the index it builds. Back-pressure (429, whole request or items) is sat
/// out with growing pauses and only the rejected items are sent again; a refused request, or 429 that does not
/// stop, throws <see cref="SearchUnavailableException"/> so the batch is retried. Other per-item errors are logged
/// and counted, never fatal to the batch.
/// </summary>
public sealed class SearchWriter(ElasticsearchClient client, ILogger<SearchWriter> logger)
{
    public const string Alias = "eprints";
    public const string FirstIndex = "eprints-v1";
    private const int BackPressureAttempts = 6;

    private readonly SemaphoreSlim _bootstrap = new(1, 1);
    private volatile bool _aliasKnown;

    /// <summary>The pipeline's write, through the alias; returns the item errors.</summary>
    public async Task<int> WriteAsync(IReadOnlyList<IndexableEprintDocument> documents, IReadOnlyList<string> deletedUris, CancellationToken cancellationToken)
    {
        if (documents.Count == 0 && deletedUris.Count == 0)
        {
            return 0;
        }

        await EnsureAliasAsync(cancellationToken);
        try
        {
            return await BulkAsync(Alias, documents, deletedUris, cancellationToken);
        }
        catch (SearchAliasMissingException)
        {
            _aliasKnown = false; // someone removed it: the batch's retry creates it again, with our mapping
            throw;
        }
    }

    /// <summary>
    /// Indexes <paramref name="documents"/> and deletes <paramref name="deletedUris"/> through the alias
    /// <paramref name="alias"/>; returns the item errors. Throws <see cref="SearchAliasMissingException"/> when the alias
    /// does not exist.
    /// </summary>
    public async Task<int> BulkAsync(
        string alias, IReadOnlyList<IndexableEprintDocument> documents, IReadOnlyList<string> deletedUris, CancellationToken cancellationToken)
    {
        var index = alias;
        var pending = documents.Select(d => (Id: d.Uri, Document: (IndexableEprintDocument?)d)).Concat(deletedUris.Select(u => (Id: u, Document: (IndexableEprintDocument?)null))).ToList();
        var errors = 0;
        for (var attempt = 1; pending.Count > 0; attempt++)
        {
            var operations = new BulkOperationsCollection();
            foreach (var (id, document) in pending)
            {
                operations.Add(document is null ? new BulkDeleteOperation(id) : new BulkIndexOperation<IndexableEprintDocument>(document) { Id = id });
            }

            var response = await client.BulkAsync(new BulkRequest(index) { Operations = operations, RequireAlias = true }, cancellationToken);
            var status = response.ApiCallDetails.HttpStatusCode;
            List<(string Id, IndexableEprintDocument? Document)> rejected;
            if (status == 429)
            {
                rejected = pending;
            }
            else if (status is not 200)
            {
                throw new SearchUnavailableException(
                    $"Elasticsearch refused _bulk on {index} ({status?.ToString() ?? "no response"})", response.ApiCallDetails.OriginalException);
            }
            else
            {
                if (response.ItemsWithErrors.Any(i => i.Error?.Type == "index_not_found_exception"))
                {
                    throw new SearchAliasMissingException(index);
                }

                // A delete of a document that is not there is not an error: it is gone, as asked.
                var failed = response.ItemsWithErrors.Where(i => !(i.Operation == "delete" && i.Status == 404)).ToList();
                var rejectedIds = failed.Where(i => i.Status == 429).Select(i => i.Id).ToHashSet(StringComparer.Ordinal);
                foreach (var item in failed.Where(i => i.Status != 429))
                {
                    logger.LogWarning("Elasticsearch refused {Operation} of {Id} in {Index}: {Status} {Type}: {Reason}",
                        item.Operation, item.Id, index, item.Status, item.Error?.Type, item.Error?.Reason);
                }

                errors += failed.Count - rejectedIds.Count;
                rejected = pending.Where(p => rejectedIds.Contains(p.Id)).ToList();
            }

            if (rejected.Count > 0 && attempt >= BackPressureAttempts)
            {
                throw new SearchUnavailableException($"Elasticsearch kept rejecting {rejected.Count} items with 429 after {attempt} attempts");
            }

            if (rejected.Count > 0)
            {
                logger.LogInformation("Elasticsearch back-pressure (429) on {Count} items: pausing before sending them again", rejected.Count);
                await Task.Delay(TimeSpan.FromMilliseconds(100 * Math.Pow(2, attempt)), cancellationToken);
            }

            pending = rejected;
        }

        return errors;
    }

    /// <summary>Makes sure the alias exists: when it does not, creates <see cref="FirstIndex"/> behind it.</summary>
    public async Task EnsureAliasAsync(CancellationToken cancellationToken)
    {
        if (_aliasKnown)
        {
            return;
        }

        await _bootstrap.WaitAsync(cancellationToken);
        try
        {
            if (_aliasKnown)
            {
                return;
            }

            var exists = await client.Indices.ExistsAsync(Alias, cancellationToken);
            if (!exists.Exists)
            {
                if (exists.ApiCallDetails.HttpStatusCode is not 404)
                {
                    throw new SearchUnavailableException(
                        $"Elasticsearch did not say whether '{Alias}' exists ({exists.ApiCallDetails.HttpStatusCode?.ToString() ?? "no response"})",
                        exists.ApiCallDetails.OriginalException);
                }

                await CreateIndexAsync(FirstIndex, withAlias: true, cancellationToken);
            }

            _aliasKnown = true;
        }
        finally
        {
            _bootstrap.Release();
        }
    }

    /// <summary>
    /// Creates <paramref name="index"/> from the repo's definition (optionally already behind the alias); true when
    /// created, false when it already existed.
    /// </summary>
    public async Task<bool> CreateIndexAsync(string index, bool withAlias, CancellationToken cancellationToken, Action<JsonObject>? adjustDefinition = null)
    {
        var definition = Definition();
        if (withAlias)
        {
            definition["aliases"] = new JsonObject { [Alias] = new JsonObject() };
        }

        adjustDefinition?.Invoke(definition);
        var created = await client.Transport.RequestAsync<StringResponse>(
            Elastic.Transport.HttpMethod.PUT, "/" + index, PostData.String(definition.ToJsonString()), cancellationToken);
        var status = created.ApiCallDetails.HttpStatusCode;
        if (status is 200)
        {
            logger.LogInformation("Created the search index {Index}{Alias}", index, withAlias ? $" behind the alias {Alias}" : "");
            return true;
        }

        if (status is 400 && created.Body.Contains("resource_already_exists_exception", StringComparison.Ordinal))
        {
            return false; // another worker created it first
        }

        throw new SearchUnavailableException($"could not create {index} ({status?.ToString() ?? "no response"}): {created.Body}");
    }

    /// <summary>The index definition kept in the repo (<c>Search/eprints-index.json</c>): settings, analyzers, mappings.</summary>
    public static JsonObject Definition()
    {
        using var stream = typeof(SearchWriter).Assembly.GetManifestResourceStream("eprints-index.json")
            ?? throw new InvalidOperationException("the eprints index definition is not embedded");
        return JsonNode.Parse(stream)!.AsObject();
    }
}
