using System.Diagnostics;
using System.Text;

namespace Chive.Tests.AdminCli;

/// <summary>
/// Runs the built <c>chive-admin</c> as the operator would: a process of its own, with the server and key from the
/// environment — plainly (output redirected, as a script sees it) or inside a pseudo-terminal (<c>script</c> from
/// util-linux, as a person sees it: ANSI, cursor movement, the live bars).
/// </summary>
public sealed class ChiveAdmin(Uri server, string? key, string? executable = null)
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);

    /// <summary>chive-admin.dll beside the test assembly (a project reference copies it there).</summary>
    public static string Dll => typeof(Chive.AdminCli.ExitCodes).Assembly.Location;

    public sealed record Result(int ExitCode, string Out, string Error)
    {
        /// <summary>What the terminal shows as text: <see cref="Out"/> without its control sequences (colours, cursor moves).</summary>
        public string Text => System.Text.RegularExpressions.Regex.Replace(Out, @"\u001b(\[[0-9;?]*[ -/]*[@-~]|[=>])", "");

        public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}\n--- stderr\n{Error}";
    }

    public Task<Result> RunAsync(params string[] args) => StartAsync(args).Completion;

    /// <summary>Starts chive-admin and returns at once; <see cref="Running.Completion"/> ends with it.</summary>
    public Running StartAsync(params string[] args)
    {
        var start = Start(executable ?? "dotnet");
        if (executable is null)
        {
            start.ArgumentList.Add(Dll);
        }

        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return Run(start);
    }

    /// <summary>chive-admin inside a 120×40 pseudo-terminal; the output is what the terminal received.</summary>
    public Task<Result> RunInTerminalAsync(params string[] args)
    {
        var command = "stty cols 120 rows 40; exec " + string.Join(' ', (executable is null ? ["dotnet", Dll] : new[] { executable }).Concat(args).Select(Quote));
        var start = Start("script");
        foreach (var arg in new[] { "--quiet", "--flush", "--return", "--command", command, "/dev/null" })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["TERM"] = "xterm-256color";
        start.Environment["LANG"] = "C.UTF-8";
        return Run(start).Completion;
    }

    private ProcessStartInfo Start(string file)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        start.Environment["CHIVE_ADMIN_URL"] = server.ToString();
        start.Environment.Remove("CHIVE_ADMIN_KEY");
        if (key is not null)
        {
            start.Environment["CHIVE_ADMIN_KEY"] = key;
        }

        start.Environment.Remove("NO_COLOR");
        return start;
    }

    private static Running Run(ProcessStartInfo start)
    {
        var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        return new Running(process, WaitAsync(process, output, error));
    }

    private static async Task<Result> WaitAsync(Process process, Task<string> output, Task<string> error)
    {
        using (process)
        {
            using var timeout = new CancellationTokenSource(Limit);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"chive-admin ran over {Limit}: {await output}{await error}");
            }

            return new Result(process.ExitCode, await output, await error);
        }
    }

    private static string Quote(string arg) => "'" + arg.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    public sealed record Running(Process Process, Task<Result> Completion);
}
