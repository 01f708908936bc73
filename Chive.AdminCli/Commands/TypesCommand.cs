using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Chive.AdminCli.Commands;

/// <summary><c>chive-admin types</c>: the operation types and whether this deployment can run each.</summary>
public static class TypesCommand
{
    public static Command Create(GlobalOptions options)
    {
        var command = new Command("types", "List the operation types and whether each can run here");
        options.SetAction(command, async (_, context, cancellationToken) =>
        {
            var answer = await context.Client.GetAsync("listBackfillTypes", cancellationToken);
            if (context.Json)
            {
                context.Out.WriteLine(answer.ToJsonString());
                return ExitCodes.Completed;
            }

            var table = new Table().Border(TableBorder.Simple).AddColumns("type", "available", "why not");
            foreach (var type in (answer["types"] as JsonArray ?? []).OfType<JsonObject>())
            {
                var available = type["available"] is JsonValue v && v.TryGetValue<bool>(out var b) && b;
                table.AddRow(
                    TerminalText.Safe(type["type"]?.ToString()),
                    available ? "[green]yes[/]" : "[red]no[/]",
                    TerminalText.Safe(type["reason"]?.ToString()));
            }

            context.Console.Write(table);
            return ExitCodes.Completed;
        });
        return command;
    }
}
