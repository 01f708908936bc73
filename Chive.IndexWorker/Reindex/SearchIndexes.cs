using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Chive.IndexWorker.Search;
using Elastic.Clients.Elasticsearch;
using Elastic.Transport;

namespace Chive.IndexWorker.Reindex;

/// <summary>The index-level Elasticsearch calls of a full reindex: where the alias points, create, refresh, swap, delete.</summary>
public sealed partial class SearchIndexes(ElasticsearchClient client, SearchWriter search, ILogger<SearchIndexes> logger)
{
    /// <summary>The index the <c>eprints</c> alias points at, or null when there is no alias.</summary>
    public async Task<string?> AliasTargetAsync(CancellationToken cancellationToken)
    {
        var response = await SendAsync(Elastic.Transport.HttpMethod.GET, $"/_alias/{SearchWriter.Alias}", null, cancellationToken, 404);
        return response.ApiCallDetails.HttpStatusCode == 404 ? null : JsonNode.Parse(response.Body)!.AsObject().Select(p => p.Key).Single();
    }

    /// <summary>The next versioned name after <paramref name="current"/>: <c>eprints-v3</c> after <c>eprints-v2</c>.</summary>
    public static string NextVersion(string? current)
    {
        var match = current is null ? null : Version().Match(current);
        var version = match is { Success: true } ? int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
        return $"{SearchWriter.Alias}-v{version + 1}";
    }

    /// <summary>The alias a reindex writes through while it builds <paramref name="index"/> (dropped by the swap).</summary>
    public static string BuildAlias(string index) => index + "-build";

    /// <summary>Who is building (or built) <paramref name="index"/>: the operation and start time in its <c>_meta</c>; null when there is no such index.</summary>
    public async Task<IndexBuild?> BuildOwnerAsync(string index, CancellationToken cancellationToken)
    {
        var response = await SendAsync(Elastic.Transport.HttpMethod.GET, $"/{index}/_mapping", null, cancellationToken, 404);
        if (response.ApiCallDetails.HttpStatusCode == 404)
        {
            return null;
        }

        var meta = JsonNode.Parse(response.Body)?.AsObject().FirstOrDefault().Value?["mappings"]?["_meta"];
        return Guid.TryParse(meta?["operation"]?.GetValue<string>(), out var operation)
               && DateTimeOffset.TryParse(meta?["startedAt"]?.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture,
                   System.Globalization.DateTimeStyles.AssumeUniversal, out var startedAt)
            ? new IndexBuild(operation, startedAt)
            : new IndexBuild(Guid.Empty, DateTimeOffset.MinValue);
    }

    /// <summary>
    /// Creates the index a reindex builds: the repo's definition, periodic refresh off, the build alias, and the
    /// operation and its start time in the mapping's <c>_meta</c>.
    /// </summary>
    public Task CreateBuildIndexAsync(string index, Guid operationId, DateTimeOffset startedAt, CancellationToken cancellationToken) =>
        search.CreateIndexAsync(index, withAlias: false, cancellationToken, definition =>
        {
            definition["settings"]!["refresh_interval"] = "-1";
            definition["aliases"] = new JsonObject { [BuildAlias(index)] = new JsonObject() };
            definition["mappings"]!["_meta"] = new JsonObject { ["operation"] = operationId.ToString("D"), ["startedAt"] = startedAt.ToString("O") };
        });

    /// <summary>Deletes an index; one that is not there is fine.</summary>
    public async Task DeleteAsync(string index, CancellationToken cancellationToken)
    {
        var response = await SendAsync(Elastic.Transport.HttpMethod.DELETE, "/" + index, null, cancellationToken, 404);
        if (response.ApiCallDetails.HttpStatusCode == 200)
        {
            logger.LogInformation("Deleted the search index {Index}", index);
        }
    }

    /// <summary>Makes everything indexed visible, and turns periodic refresh back on (a reindex builds with it off).</summary>
    public async Task RefreshAsync(string index, CancellationToken cancellationToken)
    {
        await SendAsync(Elastic.Transport.HttpMethod.PUT, $"/{index}/_settings", """{"index":{"refresh_interval":"1s"}}""", cancellationToken);
        await SendAsync(Elastic.Transport.HttpMethod.POST, $"/{index}/_refresh", null, cancellationToken);
    }

    /// <summary>
    /// Points the alias at <paramref name="next"/> in one atomic <c>_aliases</c> call, taking it off
    /// <paramref name="previous"/> and taking the build alias off <paramref name="next"/>.
    /// </summary>
    public async Task SwapAliasAsync(string? previous, string next, CancellationToken cancellationToken)
    {
        var actions = new JsonArray
        {
            new JsonObject { ["remove"] = new JsonObject { ["index"] = next, ["alias"] = BuildAlias(next) } },
        };
        if (previous is not null)
        {
            actions.Add(new JsonObject { ["remove"] = new JsonObject { ["index"] = previous, ["alias"] = SearchWriter.Alias } });
        }

        actions.Add(new JsonObject { ["add"] = new JsonObject { ["index"] = next, ["alias"] = SearchWriter.Alias } });
        await SendAsync(Elastic.Transport.HttpMethod.POST, "/_aliases", new JsonObject { ["actions"] = actions }.ToJsonString(), cancellationToken);
        logger.LogInformation("The alias {Alias} now points at {Index} (was {Previous})", SearchWriter.Alias, next, previous ?? "nothing");
    }

    private async Task<StringResponse> SendAsync(
        Elastic.Transport.HttpMethod method, string path, string? body, CancellationToken cancellationToken, params int[] alsoFine)
    {
        var response = body is null
            ? await client.Transport.RequestAsync<StringResponse>(method, path, cancellationToken)
            : await client.Transport.RequestAsync<StringResponse>(method, path, PostData.String(body), cancellationToken);
        var status = response.ApiCallDetails.HttpStatusCode;
        if (status is 200 || (status is { } s && alsoFine.Contains(s)))
        {
            return response;
        }

        throw new SearchUnavailableException(
            $"Elasticsearch answered {method} {path} with {status?.ToString() ?? "no response"}: {response.Body}", response.ApiCallDetails.OriginalException);
    }

    [GeneratedRegex("^eprints-v([0-9]{1,9})$")]
    private static partial Regex Version();
}

/// <summary>The reindex that made an index: its operation and when it started (<see cref="Guid.Empty"/> when the index says nothing).</summary>
public sealed record IndexBuild(Guid OperationId, DateTimeOffset StartedAt);
