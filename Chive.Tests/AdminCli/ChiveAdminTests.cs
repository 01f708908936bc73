using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Chive.AdminApi.Operations;
using Chive.ServiceDefaults;
using Chive.Tests.AdminPage;
using Chive.Tests.Infrastructure;
using Chive.Tests.Reindex;

namespace Chive.Tests.AdminCli;

/// <summary>
/// <c>chive-admin</c> against the running system (the main AppHost): every command, its JSON for scripts, its exit
/// codes, and the live bars as a terminal receives them. The operations watched are full reindexes made slow by the
/// Elasticsearch double (100 ms a bulk request, 20 eprints a request: several seconds).
/// </summary>
[Collection(ChiveAppCollection.Name)]
public sealed partial class ChiveAdminTests(ChiveAppFixture fixture, BrowserFixture browser, Xunit.Abstractions.ITestOutputHelper output)
    : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task Types_are_listed_as_a_table_and_as_the_servers_json()
    {
        var table = await Cli().RunAsync("types");
        var json = await Cli().RunAsync("types", "--json");

        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.All(["pdsScan", "freshnessScan", "citationExtraction", "fullReindex", "governanceSync", "didSync"], type => Assert.Contains(type, table.Out));
        Assert.True(json.ExitCode == 0, json.ToString());
        var types = JsonNode.Parse(json.Out)!["types"]!.AsArray();
        Assert.Equal(6, types.Count);
        Assert.All(types, t => Assert.True(t!["available"]!.GetValue<bool>()));
    }

    [Fact]
    public async Task Status_watch_in_a_terminal_shows_a_live_bar_for_the_running_reindex_and_exits_0_when_it_completes()
    {
        await FullReindexTests.SeedAsync(fixture);
        using var slow = SlowBulk();
        var started = await Cli().RunAsync("trigger", "fullReindex", "--batch-size", "20", "--json");
        Assert.True(started.ExitCode == 0, started.ToString());
        var id = JsonNode.Parse(started.Out)!["operation"]!["id"]!.GetValue<string>();

        var run = await Cli().RunInTerminalAsync("status", "--watch", "--interval", "0.3");

        Assert.True(run.ExitCode == 0, run.ToString());
        using var admin = fixture.CreateAdminClient();
        var done = await admin.GetOperationAsync(id);
        Assert.Equal("completed", done.Status());
        Assert.Contains("\u001b[", run.Out, StringComparison.Ordinal); // a terminal: ANSI, the bars redrawn in place
        Assert.Contains("━", run.Out, StringComparison.Ordinal);
        Assert.Contains($"fullReindex {id[..8]}", run.Text, StringComparison.Ordinal);
        Assert.Matches(@"[\d,]+\.\d records/s", run.Text); // a rate, once two polls were a second apart
        Assert.Matches(@"\d+:\d\d left", run.Text);
        var percentages = Percent().Matches(run.Text).Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).Distinct().ToList();
        Assert.True(percentages.Count >= 3, $"the bar moved through {string.Join(", ", percentages)}: {run}");
        Assert.Contains($"completed: {done.Records().ToString("N0", CultureInfo.InvariantCulture)} records in", run.Text, StringComparison.Ordinal);

        // What the terminal showed half-way, and at the end: docs/images/chive-admin-status-watch.png.
        var frames = TerminalRendering.Frames(run.Out);
        var middle = frames.Where(f => f.Contains("records/s", StringComparison.Ordinal) && f.Contains(" left", StringComparison.Ordinal)
            && !f.Contains("– left", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(middle);
        var shown = new[] { "$ chive-admin status --watch" }.Concat(middle[middle.Count / 2].Split('\n').Where(l => l.Trim().Length > 0));
        await TerminalScreenshotAsync("chive-admin-status-watch", shown);
        await TerminalScreenshotAsync("chive-admin-status-watch-end",
            new[] { "$ chive-admin status --watch" }.Concat(frames[^1].Split('\n').Where(l => l.Trim().Length > 0)));
    }

    [Fact]
    public async Task Trigger_with_watch_follows_the_new_operation_to_its_end_in_json_lines()
    {
        await new Chive.Tests.GovernanceSync.GovernanceSyncTests(fixture, output).EnsureSeededAsync();
        var run = await Cli().RunAsync("trigger", "governanceSync", "--watch", "--json", "--interval", "0.2");

        Assert.True(run.ExitCode == 0, run.ToString());
        var lines = run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
        var id = lines[0]["operation"]!["id"]!.GetValue<string>(); // the trigger's answer, then one line per poll
        var last = lines[^1]["operations"]!.AsArray().Single()!;
        Assert.Equal((id, "completed"), (last["id"]!.GetValue<string>(), last["status"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Watching_one_operation_as_json_follows_a_cancel_to_its_end_and_exits_4()
    {
        await FullReindexTests.SeedAsync(fixture);
        using var slow = SlowBulk();
        var started = await Cli().RunAsync("trigger", "fullReindex", "--batch-size", "20", "--json");
        Assert.True(started.ExitCode == 0, started.ToString());
        var id = JsonNode.Parse(started.Out)!["operation"]!["id"]!.GetValue<string>();
        using var admin = fixture.CreateAdminClient();
        await admin.WaitForAsync(id, op => op.Records() > 0);

        var watch = Cli().StartAsync("status", id, "--watch", "--json", "--interval", "0.3");
        await Task.Delay(TimeSpan.FromSeconds(1));
        var cancel = await Cli().RunAsync("cancel", id);
        var watched = await watch.Completion;

        Assert.True(cancel.ExitCode == 0, cancel.ToString());
        Assert.Contains($"Cancelled {id}", cancel.Out, StringComparison.Ordinal);
        Assert.True(watched.ExitCode == 4, watched.ToString());
        var polls = watched.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonNode.Parse(line)!["operations"]!.AsArray().Single(o => o!["id"]!.GetValue<string>() == id)!)
            .ToList();
        Assert.True(polls.Count >= 2, watched.ToString());
        Assert.Equal("running", polls[0]["status"]!.GetValue<string>());
        Assert.Equal("cancelled", polls[^1]["status"]!.GetValue<string>());

        var status = await Cli().RunAsync("status", id);
        Assert.True(status.ExitCode == 4, status.ToString());
        var again = await Cli().RunAsync("cancel", id);
        Assert.True(again.ExitCode == 5, again.ToString());
        Assert.Contains("already ended", again.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failed_operation_exits_3_and_its_error_cannot_drive_the_terminal()
    {
        // An error can quote what a PDS sent; here one that would set the window title and clear the screen.
        const string hostile = "PDS said \u001b]0;pwned\u0007\u001b[2J [red]boom[/]";
        var store = await fixture.OperationStoreAsync();
        var id = Guid.NewGuid();
        Assert.True(await store.InsertAsync(new BackfillOperation
        {
            CorrelationId = id,
            CurrentState = "Failed",
            Type = "pdsScan",
            StartedAt = DateTimeOffset.UtcNow.AddMinutes(-3),
            CompletedAt = DateTimeOffset.UtcNow.AddMinutes(-2),
            Error = hostile,
            Metadata = new() { ["startedBy"] = "test", ["pdsesFailed"] = "1" },
        }));
        try
        {
            var plain = await Cli().RunAsync("status", id.ToString("D"));
            var terminal = await Cli().RunInTerminalAsync("status", id.ToString("D"));
            var json = await Cli().RunAsync("status", id.ToString("D"), "--json");

            Assert.True(plain.ExitCode == 3, plain.ToString());
            Assert.Contains("failed", plain.Out, StringComparison.Ordinal);
            Assert.Contains("PDS said ?]0;pwned?? [red]boom[/]", plain.Out.Replace("?[2J", "?", StringComparison.Ordinal), StringComparison.Ordinal);
            Assert.Contains("pdsesFailed", plain.Out, StringComparison.Ordinal);
            Assert.True(terminal.ExitCode == 3, terminal.ToString());
            Assert.DoesNotContain("\u001b]0;pwned", terminal.Out, StringComparison.Ordinal);
            Assert.DoesNotContain("\u001b[2J", terminal.Out, StringComparison.Ordinal);
            Assert.True(json.ExitCode == 3, json.ToString());
            Assert.Equal(hostile, JsonNode.Parse(json.Out)!["operation"]!["error"]!.GetValue<string>()); // scripts get it as it is, JSON-escaped
        }
        finally
        {
            await store.DeleteAsync(id);
        }
    }

    [Fact]
    public async Task Refusals_exit_5_with_the_servers_reason()
    {
        var noDid = await Cli().RunAsync("trigger", "didSync");
        var wrongKey = await Cli("not-a-key").RunAsync("types");
        var noKey = await Cli(null).RunAsync("history");
        var unknown = await Cli().RunAsync("status", Guid.NewGuid().ToString("D"), "--json");

        Assert.True(noDid.ExitCode == 5, noDid.ToString());
        Assert.Contains("InvalidRequest (HTTP 400)", noDid.Error, StringComparison.Ordinal);
        Assert.Contains("did", noDid.Error, StringComparison.Ordinal);
        Assert.True(wrongKey.ExitCode == 5, wrongKey.ToString());
        Assert.True(noKey.ExitCode == 5, noKey.ToString());
        Assert.Contains("AuthenticationRequired (HTTP 401)", noKey.Error, StringComparison.Ordinal);
        Assert.True(unknown.ExitCode == 5, unknown.ToString());
        Assert.Equal("Refused", JsonNode.Parse(unknown.Out)!["error"]!.GetValue<string>());
        Assert.Contains("NotFound", unknown.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_server_that_cannot_be_used_exits_6()
    {
        var closed = new TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var closedPort = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        using var silent = new TcpListener(IPAddress.Loopback, 0); // accepts, never answers
        silent.Start();
        using var worker = fixture.CreateClient(ResourceNames.IndexWorker);

        var refused = await new ChiveAdmin(new Uri($"http://127.0.0.1:{closedPort}"), ChiveAppFixture.AdminKey).RunAsync("types");
        var hanging = await new ChiveAdmin(new Uri($"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}"), ChiveAppFixture.AdminKey).RunAsync("types", "--timeout", "1");
        var notAdminApi = await new ChiveAdmin(worker.BaseAddress!, ChiveAppFixture.AdminKey).RunAsync("types");

        Assert.True(refused.ExitCode == 6, refused.ToString());
        Assert.Contains("connection refused", refused.Error, StringComparison.Ordinal);
        Assert.True(hanging.ExitCode == 6, hanging.ToString());
        Assert.Contains("did not answer", hanging.Error, StringComparison.Ordinal);
        Assert.True(notAdminApi.ExitCode == 6, notAdminApi.ToString());
    }

    [Fact]
    public async Task History_lists_finished_operations_newest_first_within_the_limit()
    {
        var store = await fixture.OperationStoreAsync();
        var planted = new[] { Guid.NewGuid(), Guid.NewGuid() };
        for (var i = 0; i < planted.Length; i++)
        {
            Assert.True(await store.InsertAsync(new BackfillOperation
            {
                CorrelationId = planted[i],
                CurrentState = "Completed",
                Type = "governanceSync",
                StartedAt = DateTimeOffset.UtcNow.AddSeconds(-10 - i),
                CompletedAt = DateTimeOffset.UtcNow.AddSeconds(-5 - i),
                RecordsProcessed = 7,
                Progress = 100,
            }));
        }

        try
        {
            var json = await Cli().RunAsync("history", "--limit", "2", "--json");
            var table = await Cli().RunAsync("history", "--limit", "5");

            Assert.True(json.ExitCode == 0, json.ToString());
            var listed = JsonNode.Parse(json.Out)!["operations"]!.AsArray();
            Assert.Equal(2, listed.Count);
            Assert.All(listed, o => Assert.NotEqual("running", o!["status"]!.GetValue<string>()));
            var started = listed.Select(o => DateTimeOffset.Parse(o!["startedAt"]!.GetValue<string>(), CultureInfo.InvariantCulture)).ToList();
            Assert.True(started[0] >= started[1]);
            Assert.True(table.ExitCode == 0, table.ToString());
            Assert.Contains("governanceSync", table.Out, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var id in planted)
            {
                await store.DeleteAsync(id);
            }
        }
    }

    [Fact]
    public async Task The_tool_packs_installs_with_dotnet_tool_install_and_runs_as_chive_admin()
    {
        var folder = Directory.CreateTempSubdirectory("chive-admin-tool-");
        try
        {
            var project = Path.Combine(Chive.Testing.RepoPaths.Root, "Chive.AdminCli", "Chive.AdminCli.csproj");
            var packages = Path.Combine(folder.FullName, "packages");
            var tools = Path.Combine(folder.FullName, "tools");
            await DotnetAsync(null, "pack", project, "-c", "Release", "--no-build", "-o", packages, "-nologo");
            // A package cache of its own: the machine's would hand back an earlier build of the same version.
            await DotnetAsync(("NUGET_PACKAGES", Path.Combine(folder.FullName, "cache")), "tool", "install", "--tool-path", tools, "--add-source", packages, "Chive.AdminCli");

            using var admin = fixture.CreateClient(ResourceNames.AdminApi);
            var installed = new ChiveAdmin(admin.BaseAddress!, ChiveAppFixture.AdminKey, Path.Combine(tools, "chive-admin"));
            var types = await installed.RunAsync("types", "--json");

            Assert.True(types.ExitCode == 0, types.ToString());
            Assert.Equal(6, JsonNode.Parse(types.Out)!["types"]!.AsArray().Count);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static async Task DotnetAsync((string Name, string Value)? variable, params string[] args)
    {
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        if (variable is var (name, value))
        {
            start.Environment[name] = value;
        }

        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"dotnet {string.Join(' ', args)}: exit {process.ExitCode}\n{await output}\n{await error}");
    }

    /// <summary>Renders terminal lines in Chromium and saves the picture under .test-state/artifacts/screenshots/.</summary>
    private async Task TerminalScreenshotAsync(string name, IEnumerable<string> lines)
    {
        var page = await browser.Browser.NewPageAsync(new() { ViewportSize = new() { Width = 1400, Height = 300 } });
        try
        {
            await page.SetContentAsync(TerminalRendering.ToHtml(lines));
            var directory = Path.Combine(BrowserFixture.ArtifactsDirectory, "screenshots");
            Directory.CreateDirectory(directory);
            await page.Locator("pre").ScreenshotAsync(new() { Path = Path.Combine(directory, name + ".png") });
        }
        finally
        {
            await page.CloseAsync();
        }
    }

    private ChiveAdmin Cli(string? key = ChiveAppFixture.AdminKey)
    {
        using var admin = fixture.CreateClient(ResourceNames.AdminApi);
        return new ChiveAdmin(admin.BaseAddress!, key);
    }

    private Restore SlowBulk()
    {
        fixture.ElasticsearchServer.BulkDelay = TimeSpan.FromMilliseconds(100);
        return new Restore(() => fixture.ElasticsearchServer.BulkDelay = TimeSpan.Zero);
    }

    [GeneratedRegex(@"\b(\d{1,3})%")]
    private static partial Regex Percent();
}
