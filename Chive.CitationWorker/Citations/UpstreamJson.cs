using System.Text.Json;
using Chive.CitationWorker.Extraction;

namespace Chive.CitationWorker.Citations;

/// <summary>
/// Reading Semantic Scholar's and Crossref's JSON as what it is — written by services we do not control: every field
/// by its JSON kind (another kind is absent), strings trimmed and capped, at most 50 authors.
/// </summary>
internal static class UpstreamJson
{
    public const int MaxAuthors = 50;

    /// <summary>
    /// The cap on a DOI or arXiv id read before it is normalised: longer than any valid one, so that the normalisers
    /// refuse an over-long value instead of being handed its first characters, which may be another, valid identifier.
    /// </summary>
    public const int MaxIdentifier = 1000;

    public static readonly JsonDocumentOptions Options = new() { MaxDepth = 64 };

    public static string? Str(JsonElement element, string property, int cap = 1000) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String
            ? Cap(value.GetString(), cap)
            : null;

    /// <summary>The first string of an array property (Crossref's <c>title</c>, <c>container-title</c>).</summary>
    public static string? FirstStr(JsonElement element, string property, int cap = 1000) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Array
            ? value.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Select(v => Cap(v.GetString(), cap)).FirstOrDefault(v => v is not null)
            : Str(element, property, cap);

    public static int? Year(JsonElement element, string property) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value)
        && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var year) && year is >= 1000 and <= 2100
            ? year
            : null;

    public static bool Bool(JsonElement element, string property) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.True;

    public static JsonElement? Obj(JsonElement element, string property) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Object
            ? value
            : null;

    public static IEnumerable<JsonElement> Array(JsonElement element, string property) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Array
            ? value.EnumerateArray()
            : [];

    /// <summary>"Ada Lovelace" → (Ada, Lovelace); a single word is a surname.</summary>
    public static CitedAuthor? SplitName(string? name)
    {
        name = Cap(name, 200);
        if (name is null)
        {
            return null;
        }

        var space = name.LastIndexOf(' ');
        return space < 0 ? new CitedAuthor(null, name) : new CitedAuthor(name[..space].Trim(), name[(space + 1)..]);
    }

    public static string? Cap(string? value, int cap)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        value = string.Join(' ', value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return value.Length <= cap ? value : value[..cap];
    }
}
