using System.Globalization;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Chive.AdminCli;

/// <summary>How operations look in a terminal: a table of several, a detail view of one, a one-line outcome.</summary>
public static class OperationViews
{
    public static Table List(IEnumerable<Operation> operations)
    {
        // The id and the type never wrap: an id is copied from here into the next command.
        var table = new Table().Border(TableBorder.Simple)
            .AddColumn(new TableColumn("id").NoWrap())
            .AddColumn(new TableColumn("type").NoWrap())
            .AddColumns("status", "started", "progress", "records", "took");
        foreach (var operation in operations)
        {
            table.AddRow(
                TerminalText.Safe(operation.Id),
                TerminalText.Safe(operation.Type),
                StatusMarkup(operation.Status),
                When(operation.StartedAt),
                $"{operation.Progress}%",
                operation.RecordsProcessed.ToString("N0", CultureInfo.InvariantCulture),
                Took(operation) is { } took ? Duration(took) : "");
        }

        return table;
    }

    public static Grid Detail(Operation operation)
    {
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        void Row(string name, string markup) => grid.AddRow($"[grey]{name}[/]", markup);
        Row("id", TerminalText.Safe(operation.Id));
        Row("type", TerminalText.Safe(operation.Type));
        Row("status", StatusMarkup(operation.Status));
        Row("started", When(operation.StartedAt));
        Row("finished", When(operation.CompletedAt));
        if (Took(operation) is { } took)
        {
            Row("took", Duration(took));
        }

        Row("progress", $"{operation.Progress}%");
        Row("records", operation.RecordsProcessed.ToString("N0", CultureInfo.InvariantCulture));
        if (operation.Error is { } error)
        {
            Row("error", $"[red]{TerminalText.Safe(error)}[/]");
        }

        foreach (var (key, value) in operation.Metadata.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            Row(TerminalText.Safe(key), TerminalText.Safe(value));
        }

        return grid;
    }

    /// <summary>"pdsScan 3f2a… completed: 1,234 records in 0:12" (markup).</summary>
    public static string Outcome(Operation operation) =>
        $"{TerminalText.Safe(operation.Type)} {TerminalText.Safe(operation.Id)} {StatusMarkup(operation.Status)}: "
        + $"{operation.RecordsProcessed.ToString("N0", CultureInfo.InvariantCulture)} records"
        + (Took(operation) is { } took ? $" in {Duration(took)}" : "")
        + (operation.Error is { } error ? $" — [red]{TerminalText.Safe(error)}[/]" : "");

    public static string StatusMarkup(string status) => status switch
    {
        "completed" => "[green]completed[/]",
        "failed" => "[red]failed[/]",
        "cancelled" => "[yellow]cancelled[/]",
        "running" => "[blue]running[/]",
        _ => TerminalText.Safe(status),
    };

    /// <summary>"0:42", "1:02:03".</summary>
    public static string Duration(TimeSpan span) => span.TotalHours >= 1
        ? $"{(int)span.TotalHours}:{span.Minutes:00}:{span.Seconds:00}"
        : $"{span.Minutes}:{span.Seconds:00}";

    public static JsonObject OperationsJson(IEnumerable<Operation> operations) =>
        new() { ["operations"] = new JsonArray(operations.Select(o => (JsonNode)o.Json.DeepClone()).ToArray()) };

    private static TimeSpan? Took(Operation operation) =>
        operation is { StartedAt: { } started, CompletedAt: { } completed } && completed >= started ? completed - started : null;

    private static string When(DateTimeOffset? time) =>
        time?.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) ?? "";
}
