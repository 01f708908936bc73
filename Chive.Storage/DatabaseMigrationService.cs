using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Chive.Storage;

/// <summary>
/// Runs the migrations during host start-up, before the web server and the message consumers start, retrying while
/// PostgreSQL is not reachable yet (up to <see cref="DatabaseOptions.MigrationTimeout"/>). A start-up that cannot
/// migrate fails, so an orchestrator restarts it instead of running it against an old schema.
/// </summary>
internal sealed class DatabaseMigrationService(
    DatabaseMigrator migrator,
    IOptions<DatabaseOptions> options,
    ILogger<DatabaseMigrationService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.MigrateOnStart)
        {
            logger.LogInformation("Database migrations at start-up are turned off (Database:MigrateOnStart=false)");
            return;
        }

        var deadline = DateTimeOffset.UtcNow + options.Value.MigrationTimeout;
        var delay = TimeSpan.FromMilliseconds(250);
        while (true)
        {
            try
            {
                var applied = await migrator.MigrateAsync(cancellationToken);
                logger.LogInformation("Database schema is current ({AppliedMigrations} migrations applied now)", applied);
                return;
            }
            catch (Exception ex) when (IsTransient(ex) && DateTimeOffset.UtcNow + delay < deadline)
            {
                logger.LogWarning("PostgreSQL is not reachable yet for migrations ({Reason}); retrying in {Delay}", ex.GetBaseException().Message, delay);
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 5_000));
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static bool IsTransient(Exception ex) => ex.GetBaseException() switch
    {
        NpgsqlException npgsql => npgsql.IsTransient,
        System.Net.Sockets.SocketException => true,
        TimeoutException => true,
        _ => false,
    };
}
