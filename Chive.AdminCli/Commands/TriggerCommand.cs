using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Chive.AdminCli.Commands;

/// <summary>
/// <c>chive-admin trigger &lt;type&gt;</c>: starts an operation through <c>triggerBackfill</c> with the inputs given
/// (the AdminApi decides which inputs a type accepts and says so when it refuses). With <c>--watch</c> it then watches
/// the operation and exits with its outcome.
/// </summary>
public static class TriggerCommand
{
    public static readonly string[] Types = ["pdsScan", "freshnessScan", "citationExtraction", "fullReindex", "governanceSync", "didSync"];

    public static Command Create(GlobalOptions options)
    {
        var type = new Argument<string>("type") { HelpName = "type", Description = "The operation type: " + string.Join(", ", Types) };
        type.AcceptOnlyFromAmong(Types);
        var pdsUrl = new Option<string?>("--pds-url") { Description = "pdsScan: only this PDS (its origin, https://host[:port])" };
        var did = new Option<string?>("--did") { Description = "didSync: the account's DID (did:plc:… or did:web:…)" };
        var batchSize = new Option<int?>("--batch-size") { Description = "fullReindex: eprints per bulk request" };
        var tier = new Option<string?>("--tier") { Description = "freshnessScan: the tier to check" };
        var uri = new Option<string?>("--uri") { Description = "citationExtraction: one eprint (its AT-URI)" };
        var force = new Option<bool>("--force") { Description = "pdsScan, governanceSync, citationExtraction: redo what is unchanged" };
        var watch = new Option<bool>("--watch") { Description = "Watch the operation until it ends; exit with its outcome" };
        var interval = WatchInterval.Create();

        var command = new Command("trigger", "Start an operation (or join the one of that type already running)")
        {
            type, pdsUrl, did, batchSize, tier, uri, force, watch, interval,
        };
        options.SetAction(command, async (parse, context, cancellationToken) =>
        {
            var body = new JsonObject { ["type"] = parse.GetValue(type) };
            Add(body, "pdsUrl", parse.GetValue(pdsUrl));
            Add(body, "did", parse.GetValue(did));
            Add(body, "tier", parse.GetValue(tier));
            Add(body, "uri", parse.GetValue(uri));
            if (parse.GetValue(batchSize) is { } size)
            {
                body["batchSize"] = size;
            }

            if (parse.GetValue(force))
            {
                body["force"] = true;
            }

            var answer = await context.Client.PostAsync("triggerBackfill", body, cancellationToken);
            var operation = AdminClient.Checked(Operation.From(AdminClient.Object(answer, "operation", "triggerBackfill")), "triggerBackfill");
            var alreadyRunning = answer["alreadyRunning"] is JsonValue v && v.TryGetValue<bool>(out var b) && b;
            if (context.Json)
            {
                context.Out.WriteLine(answer.ToJsonString());
            }
            else
            {
                context.Console.MarkupLine(alreadyRunning
                    ? $"Already running: {TerminalText.Safe(operation.Type)} {TerminalText.Safe(operation.Id)} (nothing new was started)"
                    : $"Started {TerminalText.Safe(operation.Type)} {TerminalText.Safe(operation.Id)}");
            }

            return parse.GetValue(watch)
                ? await new OperationWatcher(context, parse.GetValue(interval)).WatchAsync(operation.Id, cancellationToken)
                : ExitCodes.Completed;
        });
        return command;
    }

    private static void Add(JsonObject body, string name, string? value)
    {
        if (value is not null)
        {
            body[name] = value;
        }
    }
}
