using System.Text.Json.Nodes;

namespace Chive.AdminCli;

/// <summary>One operation as <c>getBackfillStatus</c> returns it, read defensively: a field missing or of another kind reads as empty.</summary>
public sealed record Operation(
    string Id,
    string Type,
    string Status,
    DateTimeOffset? StartedAt,
    DateTimeOffset? CompletedAt,
    int Progress,
    long RecordsProcessed,
    string? Error,
    IReadOnlyDictionary<string, string> Metadata,
    JsonObject Json)
{
    public bool IsRunning => Status == "running";

    public static Operation From(JsonObject json) => new(
        Text(json, "id") ?? "",
        Text(json, "type") ?? "",
        Text(json, "status") ?? "",
        Time(json, "startedAt"),
        Time(json, "completedAt"),
        (int)Math.Clamp(Number(json, "progress"), 0, 100),
        Math.Max(0, Number(json, "recordsProcessed")),
        Text(json, "error"),
        json["metadata"] is JsonObject metadata
            ? metadata.Where(p => p.Value is JsonValue).ToDictionary(p => p.Key, p => p.Value!.ToString(), StringComparer.Ordinal)
            : new Dictionary<string, string>(),
        json);

    private static string? Text(JsonObject json, string name) =>
        json[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    private static long Number(JsonObject json, string name) =>
        json[name] is JsonValue value && value.TryGetValue<long>(out var number) ? number : 0;

    private static DateTimeOffset? Time(JsonObject json, string name) =>
        Text(json, name) is { } text && DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var time) ? time : null;
}
