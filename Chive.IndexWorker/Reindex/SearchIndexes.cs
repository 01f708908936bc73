using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Chive.IndexWorker.Search;
using Elastic.Clients.Elasticsearch;
using Elastic.Transport;

namespace Chive.IndexWorker.Reindex;

/// <summary>The index-level Elasticsearch calls of a full reindex: where the alias points, create, refresh, swap, delete.</summary>
public sealed partial class SearchIndexes(ElasticsearchClient client, ILogger<SearchIndexes> logger)
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

    public async Task<bool> ExistsAsync(string index, CancellationToken cancellationToken) =>
        (await SendAsync(Elastic.Transport.HttpMethod.HEAD, "/" + index, null, cancellationToken, 404)).ApiCallDetails.HttpStatusCode == 200;

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

    /// <summary>Points the alias at <paramref name="next"/> in one atomic <c>_aliases</c> call, taking it off <paramref name="previous"/>.</summary>
    public async Task SwapAliasAsync(string? previous, string next, CancellationToken cancellationToken)
    {
        var actions = new JsonArray();
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
