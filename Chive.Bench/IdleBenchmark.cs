using Chive.Tests.Infrastructure;

namespace Chive.Bench;

/// <summary>What the whole system costs doing nothing: CPU seconds by program over a quiet window after start.</summary>
internal static class IdleBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = Options.Int(args, "--seconds", 20);
        var replicas = Options.Int(args, "--replicas", 1);
        var fixture = new ChiveAppFixture
        {
            ProxyServers = false,
            Replicas = replicas > 1 ? new() { ["ScanWorker"] = replicas } : [],
            ServiceSettings = [],
        };
        foreach (var (name, value) in Options.Settings(args))
        {
            fixture.ServiceSettings![name] = value;
        }

        await fixture.InitializeAsync();
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(5));
            var cpu = CpuUse.Snapshot();
            await Task.Delay(TimeSpan.FromSeconds(seconds));
            var used = CpuUse.Since(cpu);
            Console.WriteLine($"Idle for {seconds} s, {replicas} ScanWorker replica(s): {used.Sum(p => p.Seconds):F2} CPU s: {CpuUse.Describe(used, 12)}");
        }
        finally
        {
            await fixture.DisposeAsync();
        }

        return 0;
    }
}
