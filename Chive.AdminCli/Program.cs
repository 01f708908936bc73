using System.CommandLine;
using Chive.AdminCli;
using Chive.AdminCli.Commands;

var options = new GlobalOptions();
var root = new RootCommand("chive-admin: run and watch Chive's backfill operations (pub.chive.admin.*)")
{
    TypesCommand.Create(options),
    TriggerCommand.Create(options),
    StatusCommand.Create(options),
    CancelCommand.Create(options),
    HistoryCommand.Create(options),
};
options.AddTo(root);

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors)
    {
        Console.Error.WriteLine($"chive-admin: {error.Message}");
    }

    Console.Error.WriteLine("Try 'chive-admin --help'.");
    return ExitCodes.Usage;
}

return await parsed.InvokeAsync();
