using System.Text.Json.Nodes;
using Chive.AdminApi.OperationTypes;

namespace Chive.AdminApi.Operations;

/// <summary>
/// Runs one operation type every <c>interval</c> (off when zero) through the same trigger as the admin method, with
/// the type's default input, so a scheduled run and an admin-triggered run never overlap: while one runs, the tick finds
/// it and waits for the next interval. The first run comes one interval after start-up, never during it. Governance
/// sync (<c>Operations:GovernanceSyncInterval</c>), freshness scan (<c>Operations:FreshnessScanInterval</c>) and PDS scan
/// (<c>Operations:PdsScanInterval</c>, discovery first) run this way.
/// </summary>
public sealed class OperationScheduler(
    IServiceScopeFactory scopes, string type, TimeSpan interval, TimeProvider time, ILogger<OperationScheduler> logger) : BackgroundService
{
    public const string StartedBy = "scheduler";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (interval <= TimeSpan.Zero)
        {
            logger.LogInformation("Scheduled {Type} is off (its interval is zero)", type);
            return;
        }

        using var timer = new PeriodicTimer(interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var descriptor = scope.ServiceProvider.GetRequiredService<OperationTypeRegistry>().Get(type);
                var input = (await descriptor.CheckInputAsync(new JsonObject(), stoppingToken)).Input
                    ?? throw new InvalidOperationException($"{type} has no default input");
                var (operation, alreadyRunning) = await scope.ServiceProvider.GetRequiredService<IOperationTrigger>().StartAsync(type, input, StartedBy, stoppingToken);
                logger.LogInformation(
                    alreadyRunning ? "Scheduled {Type} skipped: {OperationId} is still running" : "Scheduled {Type} {OperationId} started",
                    type, operation.CorrelationId);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The next tick tries again; the operation record (if any) carries the failure.
                logger.LogError(ex, "Scheduled {Type} could not start", type);
            }
        }
    }
}
