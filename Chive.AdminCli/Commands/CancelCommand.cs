using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Chive.AdminCli.Commands;

/// <summary><c>chive-admin cancel &lt;id&gt;</c>: cancels a running operation; one that has already ended is a refusal (exit 5).</summary>
public static class CancelCommand
{
    public static Command Create(GlobalOptions options)
    {
        var id = new Argument<Guid>("id") { Description = "The operation id" };
        var command = new Command("cancel", "Cancel a running operation") { id };
        options.SetAction(command, async (parse, context, cancellationToken) =>
        {
            var answer = await context.Client.PostAsync("cancelBackfill", new JsonObject { ["id"] = parse.GetValue(id).ToString("D") }, cancellationToken);
            var success = answer["success"] is JsonValue v && v.TryGetValue<bool>(out var b) && b;
            var status = answer["status"]?.ToString() ?? "";
            if (context.Json)
            {
                context.Out.WriteLine(answer.ToJsonString());
            }
            else
            {
                context.Console.MarkupLine(success
                    ? $"Cancelled {parse.GetValue(id):D}"
                    : $"Not cancelled: {parse.GetValue(id):D} has already ended ({OperationViews.StatusMarkup(status)})");
            }

            return success ? ExitCodes.Completed : ExitCodes.Refused;
        });
        return command;
    }
}
