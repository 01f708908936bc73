using System.CommandLine;

namespace Chive.AdminCli.Commands;

/// <summary>
/// <c>chive-admin status [id] [--watch]</c>: one operation in detail (exit code: its outcome so far — running counts as
/// success), or the list of every operation the AdminApi holds; <c>--watch</c> follows one, or all running, to the end.
/// </summary>
public static class StatusCommand
{
    public static Command Create(GlobalOptions options)
    {
        var id = new Argument<string?>("id") { Description = "An operation id; without it, every operation", Arity = ArgumentArity.ZeroOrOne };
        var status = new Option<string?>("--status") { Description = "Only operations with this status (without an id)" };
        status.AcceptOnlyFromAmong("running", "completed", "failed", "cancelled");
        var watch = new Option<bool>("--watch") { Description = "Follow the operation (or every running one) with live progress until it ends" };
        var interval = WatchInterval.Create();

        var command = new Command("status", "Show one operation, or all of them") { id, status, watch, interval };
        options.SetAction(command, async (parse, context, cancellationToken) =>
        {
            var operationId = parse.GetValue(id);
            if (operationId is not null && !Guid.TryParse(operationId, out _))
            {
                context.Error.WriteLine($"chive-admin: '{TerminalText.Clean(operationId)}' is not an operation id (a UUID)");
                return ExitCodes.Usage;
            }

            if (parse.GetValue(watch))
            {
                return await new OperationWatcher(context, parse.GetValue(interval)).WatchAsync(operationId, cancellationToken);
            }

            if (operationId is not null)
            {
                var (answer, operation) = await context.Client.GetOperationAnswerAsync(operationId, cancellationToken);
                if (context.Json)
                {
                    context.Out.WriteLine(answer.ToJsonString());
                }
                else
                {
                    context.Console.Write(OperationViews.Detail(operation));
                }

                return ExitCodes.Of(operation.Status);
            }

            var list = await context.Client.GetAsync("getBackfillStatus", cancellationToken, ("status", parse.GetValue(status)));
            if (context.Json)
            {
                context.Out.WriteLine(list.ToJsonString());
            }
            else
            {
                context.Console.Write(OperationViews.List(AdminClient.Operations(list, "getBackfillStatus")));
            }

            return ExitCodes.Completed;
        });
        return command;
    }
}
