using System.CommandLine;
using System.Globalization;

namespace Chive.AdminCli.Commands;

/// <summary><c>chive-admin history [--limit n]</c>: the finished operations of the last 24 hours, newest first.</summary>
public static class HistoryCommand
{
    public static Command Create(GlobalOptions options)
    {
        var limit = new Option<int>("--limit") { Description = "How many (1 to 1000)", DefaultValueFactory = _ => 20 };
        limit.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 1 or > 1000)
            {
                result.AddError("--limit must be from 1 to 1000");
            }
        });
        var command = new Command("history", "List finished operations, newest first") { limit };
        options.SetAction(command, async (parse, context, cancellationToken) =>
        {
            var answer = await context.Client.GetAsync("getBackfillHistory", cancellationToken,
                ("limit", parse.GetValue(limit).ToString(CultureInfo.InvariantCulture)));
            if (context.Json)
            {
                context.Out.WriteLine(answer.ToJsonString());
            }
            else
            {
                context.Console.Write(OperationViews.List(AdminClient.Operations(answer, "getBackfillHistory")));
            }

            return ExitCodes.Completed;
        });
        return command;
    }
}
