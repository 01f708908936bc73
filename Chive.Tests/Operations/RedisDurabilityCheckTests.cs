using System.Diagnostics;
using Chive.AdminApi.Operations;
using Chive.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace Chive.Tests.Operations;

/// <summary>The AdminApi's start-up look at its Redis: silent on a durable one, two warnings on one that would lose operations.</summary>
public sealed class RedisDurabilityCheckTests
{
    [Fact]
    public async Task The_test_Redis_append_only_and_never_evicting_gives_no_warning()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(TestServers.Redis);
        var warnings = await new RedisDurabilityCheck(redis, NullLogger<RedisDurabilityCheck>.Instance).CheckAsync();
        Assert.True(warnings.Count == 0, string.Join(" / ", warnings));
    }

    [Fact]
    public async Task A_Redis_without_an_append_only_log_that_evicts_any_key_gets_a_warning_for_each()
    {
        var port = TestServers.UnusedPort();
        using var server = Process.Start(new ProcessStartInfo("redis-server")
        {
            ArgumentList = { "--bind", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--save", "",
                "--appendonly", "no", "--maxmemory", "10mb", "--maxmemory-policy", "allkeys-lru" },
            RedirectStandardOutput = true,
        })!;
        try
        {
            var redis = await ConnectAsync($"127.0.0.1:{port}");
            await using (redis)
            {
                var warnings = await new RedisDurabilityCheck(redis, NullLogger<RedisDurabilityCheck>.Instance).CheckAsync();

                Assert.Equal(2, warnings.Count);
                Assert.Contains(warnings, w => w.Contains("maxmemory-policy allkeys-lru", StringComparison.Ordinal));
                Assert.Contains(warnings, w => w.Contains("appendonly no", StringComparison.Ordinal));
            }
        }
        finally
        {
            server.Kill();
            await server.WaitForExitAsync();
        }
    }

    private static async Task<ConnectionMultiplexer> ConnectAsync(string endpoint)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await ConnectionMultiplexer.ConnectAsync(endpoint);
            }
            catch (RedisConnectionException) when (attempt < 50)
            {
                await Task.Delay(100); // the server is still starting
            }
        }
    }

}
