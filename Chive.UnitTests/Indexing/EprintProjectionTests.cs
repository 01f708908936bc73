using System.Text.Json.Nodes;
using Chive.AtProto.Identifiers;
using Chive.IndexWorker.Indexing;
using Chive.IndexWorker.Search;

namespace Chive.UnitTests.Indexing;

/// <summary>
/// Type confusion: any field of a submission, at any depth, holding any JSON kind. The projection never throws; a
/// required field of the wrong kind rejects the record with its reason; any other field of the wrong kind is absent.
/// </summary>
public sealed class EprintProjectionTests
{
    private static readonly AtUri Uri = AtUri.Parse("at://did:plc:abcdefghijklmnopqrstuvwx/pub.chive.eprint.submission/3kabcdefghijk");

    /// <summary>One of each JSON kind, and the numbers that break a careless reader.</summary>
    private static readonly (string Name, Func<JsonNode?> Make)[] Kinds =
    [
        ("string", () => JsonValue.Create("text")),
        ("empty string", () => JsonValue.Create("")),
        ("integer", () => JsonValue.Create(7)),
        ("fraction", () => JsonNode.Parse("2.5")),
        ("huge number", () => JsonNode.Parse("1e300")),
        ("negative", () => JsonValue.Create(-3)),
        ("true", () => JsonValue.Create(true)),
        ("null", () => null),
        ("object", () => new JsonObject { ["x"] = 1 }),
        ("array", () => new JsonArray(1, "two", null, new JsonObject())),
        ("nested array", () => new JsonArray(new JsonArray(new JsonArray()))),
    ];

    /// <summary>Paths into a full submission (lexicon and legacy fields): "a.b" is field b of object a, "a[0]" the first item.</summary>
    private static readonly string[] Paths =
    [
        "title", "abstract", "abstract[0]", "abstract[0].content", "abstract[0].type", "abstractPlainText", "authors", "authors[0]",
        "authors[0].name", "authors[0].order", "authors[0].did", "authors[0].affiliations", "createdAt", "document", "document.ref",
        "document.ref.$link", "document.mimeType", "document.size", "documentFormatSlug", "documentFormat", "publicationStatusSlug",
        "publishedVersion", "publishedVersion.doi", "doi", "externalIds", "relatedWorks", "repositories", "funding", "fundingInfo",
        "conferencePresentation", "supplementaryMaterials", "keywords", "keywords[0]", "fieldUris", "fieldUris[0]", "fieldNodes",
        "fieldNodes[0]", "fieldNodes[0].uri", "fieldNodes[0].label", "versionNumber", "version", "version.major", "previousVersion",
        "licenseSlug", "license", "licenseUri", "submittedBy", "paperDid",
    ];

    private static readonly HashSet<string> Required = ["title", "authors", "authors[0]", "createdAt"];

    public static TheoryData<string, string> Confusions()
    {
        var data = new TheoryData<string, string>();
        foreach (var path in Paths)
        {
            foreach (var (name, _) in Kinds)
            {
                data.Add(path, name);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Confusions))]
    public void Any_field_of_any_kind_projects_or_is_rejected_with_a_reason_never_throws(string path, string kind)
    {
        var record = Full();
        Set(record, path, Kinds.Single(k => k.Name == kind).Make());

        var (row, why) = EprintProjection.Project(Uri, "bafyreicid", record);

        if (row is null)
        {
            Assert.False(string.IsNullOrWhiteSpace(why));
            Assert.True(Required.Contains(path), $"{path} as {kind} rejected the record: {why}");
        }
        else
        {
            Assert.False(string.IsNullOrWhiteSpace(row.Title));
            Assert.NotEmpty(row.Authors);
            _ = IndexableEprintDocument.ParseAuthors(row.Authors); // the search document reads the stored authors
        }
    }

    [Fact]
    public void Required_fields_of_the_wrong_kind_say_which()
    {
        Assert.Equal("missing title", Rejected("title", JsonValue.Create(5)));
        Assert.Equal("missing authors", Rejected("authors", JsonValue.Create("Ada")));
        Assert.Equal("missing authors", Rejected("authors", new JsonArray("Ada", 1, null)));
        Assert.Equal("missing or invalid createdAt", Rejected("createdAt", JsonValue.Create(20260301)));
        Assert.Equal("missing or invalid createdAt", Rejected("createdAt", JsonValue.Create("not a date")));
    }

    [Fact]
    public void Optional_fields_of_the_wrong_kind_are_treated_as_absent()
    {
        var record = Full();
        record["versionNumber"] = 2.5;
        record["version"] = "two";
        record["document"] = new JsonObject { ["ref"] = "bafy-not-an-object", ["size"] = 1e30, ["mimeType"] = 7 };
        record["keywords"] = new JsonArray("ok", 5, null, new JsonObject(), "fine");
        record["licenseSlug"] = new JsonArray();

        var row = EprintProjection.Project(Uri, "bafyreicid", record).Row!;

        Assert.Equal(1, row.Version);
        Assert.Null(row.DocumentBlobCid);
        Assert.Null(row.DocumentBlobSize);
        Assert.Null(row.DocumentBlobMimeType);
        Assert.Equal(["ok", "fine"], row.Keywords);
        Assert.Equal("MIT", row.License); // the legacy field, since licenseSlug is not a string
    }

    [Fact]
    public void Authors_that_are_not_objects_are_dropped_and_an_order_that_is_not_an_integer_is_absent()
    {
        var record = Full();
        record["authors"] = new JsonArray("Ada", new JsonObject { ["name"] = "Grace", ["order"] = 1.5 }, 42, new JsonObject { ["name"] = "Edsger", ["order"] = 2 });

        var row = EprintProjection.Project(Uri, "bafyreicid", record).Row!;
        var authors = IndexableEprintDocument.ParseAuthors(row.Authors);

        Assert.Equal(["Grace", "Edsger"], authors.Select(a => a.Name));
        Assert.Equal([null, 2], authors.Select(a => a.Order));
    }

    private static string? Rejected(string path, JsonNode? value)
    {
        var record = Full();
        Set(record, path, value);
        return EprintProjection.Project(Uri, "bafyreicid", record).Invalid;
    }

    private static JsonObject Full() => new()
    {
        ["$type"] = "pub.chive.eprint.submission",
        ["title"] = "Quantum gravity in a box",
        ["abstract"] = new JsonArray(new JsonObject { ["type"] = "text", ["content"] = "An abstract." }),
        ["abstractPlainText"] = "An abstract.",
        ["authors"] = new JsonArray(new JsonObject { ["did"] = "did:plc:abcdefghijklmnopqrstuvwx", ["name"] = "Ada", ["order"] = 1, ["affiliations"] = new JsonArray() }),
        ["createdAt"] = "2026-03-01T00:00:00Z",
        ["document"] = new JsonObject { ["$type"] = "blob", ["ref"] = new JsonObject { ["$link"] = "bafkreidoc" }, ["mimeType"] = "application/pdf", ["size"] = 1234 },
        ["documentFormatSlug"] = "pdf",
        ["documentFormat"] = "pdf",
        ["publicationStatusSlug"] = "preprint",
        ["publishedVersion"] = new JsonObject { ["doi"] = "10.1234/x" },
        ["doi"] = "10.1234/y",
        ["externalIds"] = new JsonObject { ["arxivId"] = "2401.00001" },
        ["relatedWorks"] = new JsonArray(),
        ["repositories"] = new JsonObject(),
        ["funding"] = new JsonArray(),
        ["fundingInfo"] = new JsonArray(),
        ["conferencePresentation"] = new JsonObject(),
        ["supplementaryMaterials"] = new JsonArray(),
        ["keywords"] = new JsonArray("physics"),
        ["fieldUris"] = new JsonArray("at://did:plc:abcdefghijklmnopqrstuvwx/pub.chive.graph.node/physics"),
        ["fieldNodes"] = new JsonArray(new JsonObject { ["uri"] = "at://did:plc:abcdefghijklmnopqrstuvwx/pub.chive.graph.node/biology", ["label"] = "Biology" }),
        ["versionNumber"] = 2,
        ["version"] = new JsonObject { ["major"] = 2 },
        ["previousVersion"] = "at://did:plc:abcdefghijklmnopqrstuvwx/pub.chive.eprint.submission/3kprevious000",
        ["licenseSlug"] = "CC-BY-4.0",
        ["license"] = "MIT",
        ["licenseUri"] = "https://creativecommons.org/licenses/by/4.0/",
        ["submittedBy"] = "did:plc:abcdefghijklmnopqrstuvwx",
        ["paperDid"] = "did:plc:zyxwvutsrqponmlkjihgfedc",
    };

    /// <summary>Sets the node at <paramref name="path"/> (creating nothing: a path through a replaced parent is skipped).</summary>
    private static void Set(JsonObject record, string path, JsonNode? value)
    {
        JsonNode parent = record;
        var steps = path.Replace("[0]", ".[0]", StringComparison.Ordinal).Split('.');
        for (var i = 0; i < steps.Length - 1; i++)
        {
            parent = steps[i] == "[0]" ? parent.AsArray()[0]! : parent[steps[i]]!;
        }

        var last = steps[^1];
        if (last == "[0]")
        {
            parent.AsArray()[0] = value;
        }
        else
        {
            parent.AsObject()[last] = value;
        }
    }
}
