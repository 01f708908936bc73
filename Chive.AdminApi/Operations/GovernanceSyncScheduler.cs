using Chive.AdminApi.OperationTypes;
using Chive.Contracts;
using Microsoft.Extensions.Options;

namespace Chive.AdminApi.Operations;

/// <summary>
/// Runs governance sync every <see cref="OperationsOptions.GovernanceSyncInterval"/> (off when zero) through the same
/// trigger as the admin method, so a scheduled run and an admin-triggered run never overlap: while one runs, the
/// tick finds it and waits for the next interval. The first run comes one interval after start-up, never during it.
/// </summary>
public sealed class GovernanceSyncScheduler(
    IServiceScopeFactory scopes,
    IOptions<OperationsOptions> options,
    TimeProvider time,
    ILogger<GovernanceSyncScheduler> logger) : BackgroundService
{
    public const string StartedBy = "scheduler";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.GovernanceSyncInterval;
        if (interval <= TimeSpan.Zero)
        {
            logger.LogInformation("Scheduled governance sync is off (Operations:GovernanceSyncInterval is zero)");
            return;
        }

        using var timer = new PeriodicTimer(interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var trigger = scope.ServiceProvider.GetRequiredService<IOperationTrigger>();
                var (operation, alreadyRunning) = await trigger.StartAsync(
                    BackfillOperationType.GovernanceSync, new OperationInput(OperationInput.Everything, new Dictionary<string, string>()), StartedBy, stoppingToken);
                logger.LogInformation(
                    alreadyRunning ? "Scheduled governance sync skipped: {OperationId} is still running" : "Scheduled governance sync {OperationId} started",
                    operation.CorrelationId);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The next tick tries again; the operation record (if any) carries the failure.
                logger.LogError(ex, "Scheduled governance sync could not start");
            }
        }
    }
}
