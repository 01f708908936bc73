using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Chive.AtProto.Identifiers;

namespace Chive.IndexWorker.Indexing;

/// <summary>One <c>eprints_index</c> row, projected from a <c>pub.chive.eprint.submission</c> record.</summary>
public sealed record EprintRow(
    string Uri,
    string Cid,
    string SubmittedBy,
    string? PaperDid,
    string Authors,
    string Title,
    string? Abstract,
    string? AbstractPlainText,
    string? DocumentBlobCid,
    string? DocumentBlobMimeType,
    long? DocumentBlobSize,
    string DocumentFormat,
    string? PublicationStatus,
    string? PublishedVersion,
    string? ExternalIds,
    string? RelatedWorks,
    string? Repositories,
    string? Funding,
    string? ConferencePresentation,
    string? SupplementaryMaterials,
    string[] Keywords,
    string Fields,
    int Version,
    string? PreviousVersionUri,
    string License,
    string? LicenseUri,
    DateTimeOffset CreatedAt);

/// <summary>
/// Maps a submission record to its row, accepting both the lexicon's field names and the legacy names Chive's web
/// client writes: <c>fieldNodes</c> as well as <c>fieldUris</c>, a plain-string <c>abstract</c> as well
/// as rich-text items, <c>license</c> as well as <c>licenseSlug</c>, <c>documentFormat</c> as well as
/// <c>documentFormatSlug</c>, <c>publicationStatus</c> as well as <c>publicationStatusSlug</c>, <c>doi</c> as well as
/// <c>publishedVersion.doi</c>. Defaults as Chive's: submittedBy = the repo's DID, license CC-BY-4.0, format pdf,
/// version = versionNumber, else version.major, else 1.
/// <para>
/// The record was written by someone we do not know, so every field is read by its JSON kind: a field of another kind
/// than the lexicon's (a string where a number is expected, a fraction where an integer is, an object where a string
/// is, an array where an object is) is treated as absent — the projection never throws. Only the required fields
/// (title, at least one author object, a valid createdAt) reject the record, with the reason.
/// </para>
/// </summary>
public static class EprintProjection
{
    public const string Collection = "pub.chive.eprint.submission";

    /// <summary>The row, or the reason the record cannot be an eprint (title, authors and a valid createdAt are required).</summary>
    public static (EprintRow? Row, string? Invalid) Project(AtUri uri, string cid, JsonObject record)
    {
        var title = Str(record, "title");
        if (string.IsNullOrWhiteSpace(title))
        {
            return (null, "missing title");
        }

        if (record["authors"] is not JsonArray list || list.OfType<JsonObject>().ToList() is not { Count: > 0 } authorObjects)
        {
            return (null, "missing authors");
        }

        // Only author objects are kept: anything else in the array (strings, numbers, nulls) is not an author.
        var authors = new JsonArray(authorObjects.Select(a => (JsonNode)a.DeepClone()).ToArray());

        if (!DateTimeOffset.TryParse(Str(record, "createdAt"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var createdAt))
        {
            return (null, "missing or invalid createdAt");
        }

        // In UTC: atproto datetimes may carry an offset (+01:00), and Npgsql writes a timestamptz only from offset 0 —
        // anything else is an exception of the client's, not a refused value, and would fail the whole batch.
        createdAt = createdAt.ToUniversalTime();

        var (abstractJson, abstractText) = Abstract(record);
        var document = Obj(record, "document");
        var publishedVersion = Obj(record, "publishedVersion");
        if (Str(record, "doi") is { } legacyDoi && publishedVersion?["doi"] is null)
        {
            publishedVersion = publishedVersion is null ? [] : (JsonObject)publishedVersion.DeepClone();
            publishedVersion["doi"] = legacyDoi;
        }

        var row = new EprintRow(
            Uri: uri.Value,
            Cid: cid,
            SubmittedBy: Did.TryParse(Str(record, "submittedBy"), out var submitter) ? submitter.Value : uri.Repo.Value,
            PaperDid: Did.TryParse(Str(record, "paperDid"), out var paper) ? paper.Value : null,
            Authors: authors.ToJsonString(),
            Title: title.Trim(),
            Abstract: abstractJson,
            AbstractPlainText: Str(record, "abstractPlainText") ?? abstractText,
            DocumentBlobCid: Str(Obj(document, "ref"), "$link") ?? Str(document, "cid"),
            DocumentBlobMimeType: Str(document, "mimeType"),
            DocumentBlobSize: Long(document, "size") is >= 0 and var size ? size : null,
            DocumentFormat: Str(record, "documentFormatSlug") ?? Str(record, "documentFormat") ?? "pdf",
            PublicationStatus: Str(record, "publicationStatusSlug") ?? Str(record, "publicationStatus") ?? "preprint",
            PublishedVersion: publishedVersion?.ToJsonString(),
            ExternalIds: Json(record, "externalIds"),
            RelatedWorks: Json(record, "relatedWorks"),
            Repositories: Json(record, "repositories"),
            Funding: Json(record, "funding") ?? Json(record, "fundingInfo"),
            ConferencePresentation: Json(record, "conferencePresentation"),
            SupplementaryMaterials: Json(record, "supplementaryMaterials"),
            Keywords: record["keywords"] is JsonArray keywords
                ? keywords.Where(k => k?.GetValueKind() == JsonValueKind.String).Select(k => k!.GetValue<string>()).Take(20).ToArray()
                : [],
            Fields: Fields(record),
            Version: Version(record),
            PreviousVersionUri: AtUri.TryParse(Str(record, "previousVersion") ?? Str(Obj(record, "previousVersion"), "uri"), out var previous, out _) ? previous.Value : null,
            License: Str(record, "licenseSlug") ?? Str(record, "license") ?? "CC-BY-4.0",
            LicenseUri: Str(record, "licenseUri"),
            CreatedAt: createdAt);
        return (row, null);
    }

    /// <summary>Rich-text items (kept as JSON, plain text from their text content) or a legacy plain string.</summary>
    private static (string? Json, string? Text) Abstract(JsonObject record)
    {
        switch (record["abstract"])
        {
            case JsonArray items:
                var text = new StringBuilder();
                foreach (var item in items.OfType<JsonObject>())
                {
                    if (Str(item, "content") is { } content && Str(item, "type") is null or "text" or "latex" or "codeBlock" or "heading")
                    {
                        text.Append(content);
                    }
                    else if (Str(item, "label") is { } label)
                    {
                        text.Append(label);
                    }
                }

                return (items.ToJsonString(), text.Length > 0 ? text.ToString() : null);
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                var plain = value.GetValue<string>();
                return (new JsonArray(new JsonObject { ["type"] = "text", ["content"] = plain }).ToJsonString(), plain);
            default:
                return (null, null);
        }
    }

    /// <summary><c>fieldUris</c> (lexicon) or <c>fieldNodes</c> [{uri, label?}] (legacy) → [{uri, label?}].</summary>
    private static string Fields(JsonObject record)
    {
        var fields = new JsonArray();
        if (record["fieldUris"] is JsonArray uris)
        {
            foreach (var uri in uris.Where(u => u?.GetValueKind() == JsonValueKind.String))
            {
                fields.Add(new JsonObject { ["uri"] = uri!.GetValue<string>() });
            }
        }
        else if (record["fieldNodes"] is JsonArray nodes)
        {
            foreach (var node in nodes.OfType<JsonObject>().Where(n => Str(n, "uri") is not null))
            {
                var field = new JsonObject { ["uri"] = Str(node, "uri") };
                if (Str(node, "label") is { } label)
                {
                    field["label"] = label;
                }

                fields.Add(field);
            }
        }

        return fields.ToJsonString();
    }

    private static int Version(JsonObject record) =>
        Long(record, "versionNumber") is >= 1 and <= int.MaxValue and var number ? (int)number
        : Long(Obj(record, "version"), "major") is { } major ? (int)Math.Clamp(major, 1, int.MaxValue)
        : 1;

    /// <summary>A string field, or null when it is absent or of another JSON kind.</summary>
    private static string? Str(JsonObject? o, string name) =>
        o?[name] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    /// <summary>An integral number that fits a long, or null (absent, another kind, a fraction, out of range).</summary>
    private static long? Long(JsonObject? o, string name) =>
        o?[name] is JsonValue value && value.GetValueKind() == JsonValueKind.Number && value.TryGetValue<long>(out var number) ? number : null;

    /// <summary>An object field, or null when it is absent or of another JSON kind.</summary>
    private static JsonObject? Obj(JsonObject? o, string name) => o?[name] as JsonObject;

    private static string? Json(JsonObject o, string name) => o[name] is JsonObject or JsonArray ? o[name]!.ToJsonString() : null;
}
