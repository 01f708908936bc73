using System.Diagnostics;
using Chive.ServiceDefaults;
using Chive.Testing;

namespace Chive.UnitTests.Foundation;

/// <summary>A service started without a connection string it needs refuses to start and names the missing key.</summary>
public sealed class StartupConfigurationTests
{
    private static readonly Dictionary<string, (string Assembly, string[] Needs)> Services = new()
    {
        [ResourceNames.AdminApi] = ("Chive.AdminApi", [ResourceNames.Redis, ResourceNames.RabbitMq, ResourceNames.Database]),
        [ResourceNames.ScanWorker] = ("Chive.ScanWorker", [ResourceNames.Database, ResourceNames.RabbitMq]),
        [ResourceNames.CitationWorker] = ("Chive.CitationWorker", [ResourceNames.Database, ResourceNames.RabbitMq, ResourceNames.Grobid]),
        [ResourceNames.IndexWorker] = ("Chive.IndexWorker", [ResourceNames.Database, ResourceNames.RabbitMq, ResourceNames.Elasticsearch]),
    };

    public static TheoryData<string, string> MissingConnectionStrings()
    {
        var data = new TheoryData<string, string>();
        foreach (var (service, (_, needs)) in Services)
        {
            foreach (var name in needs)
            {
                data.Add(service, name);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(MissingConnectionStrings))]
    public async Task Start_up_fails_naming_the_missing_connection_string(string service, string missing)
    {
        var (assembly, needs) = Services[service];
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name; // bin/<Configuration>/net10.0/
        var dll = Path.Combine(RepoPaths.Root, assembly, "bin", configuration, "net10.0", $"{assembly}.dll");
        Assert.True(File.Exists(dll), $"{dll} is not built");

        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add("--urls=http://127.0.0.1:0");
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("ConnectionStrings__", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(key);
        }

        foreach (var name in needs.Where(n => n != missing))
        {
            // Syntactically valid, never dialled: start-up must stop before it connects anywhere.
            start.Environment[$"ConnectionStrings__{name}"] = name switch
            {
                ResourceNames.Database => "Host=127.0.0.1;Port=1;Username=nobody;Database=none",
                ResourceNames.Redis => "127.0.0.1:1",
                ResourceNames.RabbitMq => "amqp://guest:guest@127.0.0.1:1/",
                _ => "http://127.0.0.1:1",
            };
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{service} kept running without ConnectionStrings:{missing}");
        }

        var output = await stdout + await stderr;
        Assert.NotEqual(0, process.ExitCode);
        Assert.Contains($"'ConnectionStrings:{missing}'", output);
    }
}
