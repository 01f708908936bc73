using Elastic.Clients.Elasticsearch;
using Elastic.Clients.Elasticsearch.Core.Bulk;
using Elastic.Transport;

namespace Chive.IndexWorker.Search;

/// <summary>Raised when Elasticsearch refused a whole request (unreachable, 5xx, 429): the batch is retried.</summary>
public sealed class SearchUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Writes eprint documents to the <c>eprints</c> alias with <c>_bulk</c> (document id = AT-URI) and deletes them. The
/// first write creates <c>eprints-v1</c> from <c>Search/eprints-index.json</c> behind the alias when no alias exists yet.
/// A refused request (including 429 back-pressure, whole or per item) throws <see cref="SearchUnavailableException"/>
/// so the batch is retried; other per-item errors are logged and counted, never fatal to the batch.
/// </summary>
public sealed class SearchWriter(ElasticsearchClient client, ILogger<SearchWriter> logger)
{
    public const string Alias = "eprints";
    public const string FirstIndex = "eprints-v1";

    private readonly SemaphoreSlim _bootstrap = new(1, 1);
    private volatile bool _aliasKnown;

    /// <summary>Indexes <paramref name="documents"/> and deletes <paramref name="deletedUris"/>; returns the item errors.</summary>
    public async Task<int> WriteAsync(IReadOnlyList<EprintSearchDocument> documents, IReadOnlyList<string> deletedUris, CancellationToken cancellationToken)
    {
        if (documents.Count == 0 && deletedUris.Count == 0)
        {
            return 0;
        }

        await EnsureAliasAsync(cancellationToken);
        var operations = new BulkOperationsCollection();
        foreach (var document in documents)
        {
            operations.Add(new BulkIndexOperation<EprintSearchDocument>(document) { Id = document.Uri });
        }

        foreach (var uri in deletedUris)
        {
            operations.Add(new BulkDeleteOperation(uri));
        }

        var response = await client.BulkAsync(new BulkRequest(Alias) { Operations = operations }, cancellationToken);
        if (!response.IsValidResponse && response.ApiCallDetails.HttpStatusCode is not 200)
        {
            throw new SearchUnavailableException(
                $"Elasticsearch refused _bulk ({response.ApiCallDetails.HttpStatusCode?.ToString() ?? "no response"})",
                response.ApiCallDetails.OriginalException);
        }

        // A delete of a document that is not there is not an error: it is gone, as asked.
        var errors = response.ItemsWithErrors.Where(i => !(i.Operation == "delete" && i.Status == 404)).ToList();
        if (errors.Any(i => i.Status == 429))
        {
            throw new SearchUnavailableException($"Elasticsearch rejected {errors.Count(i => i.Status == 429)} items with 429 (back-pressure)");
        }

        foreach (var item in errors)
        {
            logger.LogWarning("Elasticsearch refused {Operation} of {Id}: {Status} {Type}: {Reason}",
                item.Operation, item.Id, item.Status, item.Error?.Type, item.Error?.Reason);
        }

        return errors.Count;
    }

    private async Task EnsureAliasAsync(CancellationToken cancellationToken)
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

                await CreateFirstIndexAsync(cancellationToken);
            }

            _aliasKnown = true;
        }
        finally
        {
            _bootstrap.Release();
        }
    }

    private async Task CreateFirstIndexAsync(CancellationToken cancellationToken)
    {
        using var stream = typeof(SearchWriter).Assembly.GetManifestResourceStream("eprints-index.json")
            ?? throw new InvalidOperationException("the eprints index definition is not embedded");
        var definition = System.Text.Json.Nodes.JsonNode.Parse(stream)!.AsObject();
        definition["aliases"] = new System.Text.Json.Nodes.JsonObject { [Alias] = new System.Text.Json.Nodes.JsonObject() };
        var created = await client.Transport.RequestAsync<StringResponse>(
            Elastic.Transport.HttpMethod.PUT, "/" + FirstIndex, PostData.String(definition.ToJsonString()), cancellationToken);
        var status = created.ApiCallDetails.HttpStatusCode;
        if (status is 200)
        {
            logger.LogInformation("Created the search index {Index} behind the alias {Alias}", FirstIndex, Alias);
        }
        else if (status is not 400 || !created.Body.Contains("resource_already_exists_exception", StringComparison.Ordinal))
        {
            // 400 resource_already_exists: another worker created it first.
            throw new SearchUnavailableException($"could not create {FirstIndex} ({status?.ToString() ?? "no response"}): {created.Body}");
        }
    }
}
