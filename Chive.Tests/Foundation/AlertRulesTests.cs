using System.Diagnostics;
using Chive.Testing;

namespace Chive.Tests.Foundation;

/// <summary>
/// The Prometheus alert rules shipped in <c>docs/alerts/</c>, checked and unit-tested by Prometheus's own
/// <c>promtool</c> (Debian's prometheus package, installed by <c>scripts/install-test-deps.sh</c>): each alert fires on
/// the series that should raise it, at the time it should, with its labels and annotations — and stays quiet on the
/// series that should not.
/// </summary>
public sealed class AlertRulesTests
{
    private static readonly string Folder = Path.Combine(RepoPaths.Root, "docs", "alerts");

    [Fact]
    public async Task The_rules_are_valid_and_their_unit_tests_pass()
    {
        var check = await PromtoolAsync("check", "rules", "chive-backfill.rules.yml");
        var test = await PromtoolAsync("test", "rules", "chive-backfill.test.yml");

        Assert.True(check.ExitCode == 0, check.Output);
        Assert.Contains("4 rules found", check.Output, StringComparison.Ordinal);
        Assert.True(test.ExitCode == 0, test.Output);
        Assert.Contains("SUCCESS", test.Output, StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Output)> PromtoolAsync(params string[] args)
    {
        var start = new ProcessStartInfo("promtool") { WorkingDirectory = Folder, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("promtool did not start (scripts/install-test-deps.sh installs it)");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output + await error);
    }
}
