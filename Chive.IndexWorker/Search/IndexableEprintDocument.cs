using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Chive.IndexWorker.Search;

/// <summary>
/// An eprint's search document (mapping: <c>Search/eprints-index.json</c>); its id is the AT-URI. Built only by
/// <see cref="EprintDocuments"/>, from <c>eprints_index</c>, for the indexing pipeline and the full reindex alike.
/// </summary>
public sealed record IndexableEprintDocument(
    [property: JsonPropertyName("uri")] string Uri,
    [property: JsonPropertyName("cid")] string Cid,
    [property: JsonPropertyName("title")] string Title,
    [property: JsonPropertyName("abstract")] string? Abstract,
    [property: JsonPropertyName("keywords")] IReadOnlyList<string> Keywords,
    [property: JsonPropertyName("primaryAuthor")] SearchAuthor PrimaryAuthor,
    [property: JsonPropertyName("authors")] IReadOnlyList<SearchAuthor> Authors,
    [property: JsonPropertyName("fields")] IReadOnlyList<SearchField> Fields,
    [property: JsonPropertyName("submittedBy")] string SubmittedBy,
    [property: JsonPropertyName("doi")] string? Doi,
    [property: JsonPropertyName("license")] string? License,
    [property: JsonPropertyName("pdsUrl")] string? PdsUrl,
    [property: JsonPropertyName("createdAt")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("indexedAt")] DateTimeOffset IndexedAt)
{
    /// <summary>The authors as stored (lexicon <c>{did?, name, order?}</c>, or legacy <c>displayName</c>), in record order.</summary>
    public static IReadOnlyList<SearchAuthor> ParseAuthors(string authorsJson)
    {
        var authors = new List<SearchAuthor>();
        if (JsonNode.Parse(authorsJson) is JsonArray items)
        {
            foreach (var author in items.OfType<JsonObject>())
            {
                authors.Add(new SearchAuthor(
                    Str(author, "did"),
                    Str(author, "name") ?? Str(author, "displayName"),
                    author["order"] is JsonValue order && order.GetValueKind() == JsonValueKind.Number && order.TryGetValue<int>(out var n) ? n : null));
            }
        }

        return authors;
    }

    /// <summary>The author with order 1, else the first author, else the submitter (DID only).</summary>
    public static SearchAuthor Primary(IReadOnlyList<SearchAuthor> authors, string submittedBy) =>
        authors.FirstOrDefault(a => a.Order == 1) ?? authors.FirstOrDefault() ?? new SearchAuthor(submittedBy, null, null);

    private static string? Str(JsonObject o, string name) =>
        o[name]?.GetValueKind() == JsonValueKind.String ? o[name]!.GetValue<string>() : null;
}

public sealed record SearchAuthor(
    [property: JsonPropertyName("did")] string? Did,
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("order")] int? Order);

/// <summary>A field node: its AT-URI (the id) and label (from the record, else from the governance graph).</summary>
public sealed record SearchField(
    [property: JsonPropertyName("uri")] string Uri,
    [property: JsonPropertyName("label")] string? Label);
