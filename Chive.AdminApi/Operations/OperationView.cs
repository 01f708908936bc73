namespace Chive.AdminApi.Operations;

/// <summary>The operation record as the API returns it (camelCase by the web serializer).</summary>
public sealed record OperationView(
    Guid Id,
    string Type,
    string Status,
    DateTimeOffset StartedAt,
    DateTimeOffset? CompletedAt,
    int Progress,
    long RecordsProcessed,
    string? Error,
    IReadOnlyDictionary<string, string> Metadata)
{
    public static OperationView From(BackfillOperation o) =>
        new(o.CorrelationId, o.Type, o.Status, o.StartedAt, o.CompletedAt, o.Progress, o.RecordsProcessed, o.Error, o.Metadata);
}
