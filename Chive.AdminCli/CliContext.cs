using System.CommandLine;
using Spectre.Console;

namespace Chive.AdminCli;

/// <summary>What every command runs with: the client, the output mode and the consoles.</summary>
public sealed record CliContext(AdminClient Client, bool Json, IAnsiConsole Console, TextWriter Out, TextWriter Error, TimeProvider Time);

/// <summary>The options every command takes (<c>--server</c>, <c>--key</c>, <c>--json</c>, <c>--timeout</c>) and the one way commands run.</summary>
public sealed class GlobalOptions
{
    public Option<Uri?> Server { get; } = new("--server")
    {
        Description = $"The AdminApi's base URL [env: {ConnectionOptions.ServerVariable}; default {ConnectionOptions.DefaultServer}]",
        Recursive = true,
        CustomParser = result =>
        {
            var text = result.Tokens.Single().Value;
            if (BaseUrl(text) is { } uri)
            {
                return uri;
            }

            result.AddError($"--server must be an http(s) URL, not '{text}'");
            return null;
        },
    };

    /// <summary>An http(s) URL as the base of the XRPC paths (with its trailing slash, so a path prefix is kept), or null.</summary>
    public static Uri? BaseUrl(string text) =>
        Uri.TryCreate(text.Trim(), UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? (uri.AbsolutePath.EndsWith('/') ? uri : new Uri(uri + "/"))
            : null;

    public Option<string?> Key { get; } = new("--key")
    {
        Description = $"The operator key (prefer the environment: a command line is visible to other users) [env: {ConnectionOptions.KeyVariable}]",
        Recursive = true,
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Print the AdminApi's JSON answers (with --watch: one line per poll) instead of tables",
        Recursive = true,
    };

    public Option<double> Timeout { get; } = new("--timeout")
    {
        Description = "Seconds to wait for each answer",
        Recursive = true,
        DefaultValueFactory = _ => 30,
    };

    public void AddTo(RootCommand root)
    {
        Timeout.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<double>() is not (> 0 and <= 3600))
            {
                result.AddError("--timeout must be between 0 and 3600 seconds");
            }
        });
        root.Options.Add(Server);
        root.Options.Add(Key);
        root.Options.Add(Json);
        root.Options.Add(Timeout);
    }

    /// <summary>Sets <paramref name="command"/>'s action: <paramref name="run"/> with the context, its failures turned into exit codes.</summary>
    public void SetAction(Command command, Func<ParseResult, CliContext, CancellationToken, Task<int>> run) =>
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var key = parseResult.GetValue(Key);
            var server = parseResult.GetValue(Server);
            if (server is null)
            {
                var fromEnvironment = Environment.GetEnvironmentVariable(ConnectionOptions.ServerVariable) is { Length: > 0 } url ? url : ConnectionOptions.DefaultServer;
                if ((server = BaseUrl(fromEnvironment)) is null)
                {
                    Console.Error.WriteLine($"chive-admin: {ConnectionOptions.ServerVariable} must be an http(s) URL, not '{TerminalText.Clean(fromEnvironment)}'");
                    return ExitCodes.Usage;
                }
            }

            var connection = new ConnectionOptions(
                server,
                string.IsNullOrEmpty(key) ? Environment.GetEnvironmentVariable(ConnectionOptions.KeyVariable) : key,
                TimeSpan.FromSeconds(parseResult.GetValue(Timeout)));
            var json = parseResult.GetValue(Json);
            var context = new CliContext(AdminClient.Create(connection), json, AnsiConsole.Console, Console.Out, Console.Error, TimeProvider.System);
            try
            {
                return await run(parseResult, context, cancellationToken);
            }
            catch (AdminCliException e)
            {
                if (json)
                {
                    context.Out.WriteLine(new System.Text.Json.Nodes.JsonObject
                    {
                        ["error"] = e.ExitCode == ExitCodes.Refused ? "Refused" : "Unreachable",
                        ["message"] = e.Message,
                        ["exitCode"] = e.ExitCode,
                    }.ToJsonString());
                }

                context.Error.WriteLine($"chive-admin: {TerminalText.Clean(e.Message)}");
                return e.ExitCode;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                context.Error.WriteLine("chive-admin: interrupted (an operation being watched runs on)");
                return ExitCodes.Interrupted;
            }
        });
}
