using StackExchange.Redis;

namespace Chive.AdminApi.Operations;

/// <summary>
/// At start-up, says in the log when the Redis holding the operations would lose them: when it evicts keys under
/// memory pressure (a running operation's record is a key without a TTL, which <c>allkeys-*</c> policies may evict),
/// or when it keeps no append-only log (a restart loses what was written since the last snapshot). It cannot fix a
/// server it does not own; it makes sure an operator hears of it. It reads <c>INFO</c> over a short-lived connection of
/// its own (the client library counts INFO as an admin command, which the shared connection does not allow); a
/// server that will not answer gets a warning saying the settings could not be checked — never a failed start.
/// </summary>
public sealed class RedisDurabilityCheck(IConnectionMultiplexer redis, ILogger<RedisDurabilityCheck> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        // In the background: a slow or unreachable Redis must not hold up the start of the API.
        _ = Task.Run(async () =>
        {
            try
            {
                foreach (var warning in await CheckAsync())
                {
                    logger.LogWarning("Redis: {Warning}", warning);
                }
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Redis: could not check whether it keeps the operations durably");
            }
        }, CancellationToken.None);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>What is wrong with the primary's settings for keeping operations, one sentence each; empty when nothing.</summary>
    public async Task<IReadOnlyList<string>> CheckAsync()
    {
        var warnings = new List<string>();
        var options = ConfigurationOptions.Parse(redis.Configuration);
        options.AllowAdmin = true;
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = 5000;
        await using var admin = await ConnectionMultiplexer.ConnectAsync(options);
        foreach (var endpoint in admin.GetEndPoints())
        {
            var server = admin.GetServer(endpoint);
            if (server.IsReplica)
            {
                continue;
            }

            try
            {
                var config = (await server.InfoAsync()).SelectMany(g => g).ToDictionary(p => p.Key, p => p.Value, StringComparer.OrdinalIgnoreCase);
                var policy = config.GetValueOrDefault("maxmemory_policy", "noeviction");
                var maxMemory = config.GetValueOrDefault("maxmemory", "0");
                if (maxMemory != "0" && policy.StartsWith("allkeys", StringComparison.OrdinalIgnoreCase))
                {
                    warnings.Add($"{endpoint} evicts any key when full (maxmemory-policy {policy}, maxmemory {maxMemory}): a running operation's record " +
                                 "could vanish. Set maxmemory-policy noeviction (or volatile-*, which only evicts finished operations).");
                }

                if (config.GetValueOrDefault("aof_enabled", "0") != "1")
                {
                    warnings.Add($"{endpoint} keeps no append-only log (appendonly no): a restart loses every operation written since the last " +
                                 "snapshot. Set appendonly yes.");
                }
            }
            catch (Exception ex) when (ex is RedisException or RedisCommandException or TimeoutException)
            {
                warnings.Add($"{endpoint} would not show its configuration ({ex.Message}): make sure it runs with appendonly yes and never " +
                             "evicts keys without a TTL.");
            }
        }

        return warnings;
    }
}
