using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Chive.IndexWorker.Indexing;

namespace Chive.IndexWorker.Search;

/// <summary>An eprint's search document in the <c>eprints</c> index (mapping: <c>Search/eprints-index.json</c>); its id is the AT-URI.</summary>
public sealed record EprintSearchDocument(
    [property: JsonPropertyName("uri")] string Uri,
    [property: JsonPropertyName("cid")] string Cid,
    [property: JsonPropertyName("title")] string Title,
    [property: JsonPropertyName("abstract")] string? Abstract,
    [property: JsonPropertyName("keywords")] IReadOnlyList<string> Keywords,
    [property: JsonPropertyName("authors")] IReadOnlyList<SearchAuthor> Authors,
    [property: JsonPropertyName("fields")] IReadOnlyList<SearchField> Fields,
    [property: JsonPropertyName("submittedBy")] string SubmittedBy,
    [property: JsonPropertyName("doi")] string? Doi,
    [property: JsonPropertyName("license")] string License,
    [property: JsonPropertyName("pdsUrl")] string? PdsUrl,
    [property: JsonPropertyName("createdAt")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("indexedAt")] DateTimeOffset IndexedAt)
{
    public static EprintSearchDocument From(EprintRow row, string? pdsUrl, DateTimeOffset indexedAt)
    {
        var authors = new List<SearchAuthor>();
        if (JsonNode.Parse(row.Authors) is JsonArray items)
        {
            foreach (var author in items.OfType<JsonObject>())
            {
                authors.Add(new SearchAuthor(
                    Str(author, "did"),
                    Str(author, "name") ?? Str(author, "displayName") ?? "",
                    author["order"]?.GetValueKind() == JsonValueKind.Number ? author["order"]!.GetValue<int>() : null));
            }
        }

        var fields = new List<SearchField>();
        if (JsonNode.Parse(row.Fields) is JsonArray nodes)
        {
            fields.AddRange(nodes.OfType<JsonObject>().Select(f => new SearchField(Str(f, "uri") ?? "", Str(f, "label"))));
        }

        var doi = row.PublishedVersion is { } pv && JsonNode.Parse(pv) is JsonObject published ? Str(published, "doi") : null;
        return new EprintSearchDocument(row.Uri, row.Cid, row.Title, row.AbstractPlainText, row.Keywords, authors, fields,
            row.SubmittedBy, doi, row.License, pdsUrl, row.CreatedAt, indexedAt);
    }

    private static string? Str(JsonObject o, string name) =>
        o[name]?.GetValueKind() == JsonValueKind.String ? o[name]!.GetValue<string>() : null;
}

public sealed record SearchAuthor(
    [property: JsonPropertyName("did")] string? Did,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("order")] int? Order);

public sealed record SearchField(
    [property: JsonPropertyName("uri")] string Uri,
    [property: JsonPropertyName("label")] string? Label);
