using Chive.Contracts.Operations;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Chive.AdminApi.Operations;

/// <summary>
/// Every <see cref="OperationsOptions.WatchInterval"/>, looks at the running operations (one listing) and asks the saga
/// (<see cref="WatchOperation"/>) about each one that a rule of <see cref="Watchdog"/> applies to: a start that may have
/// been lost, or an operation nothing has been heard from for the stall timeout. So no operation runs for ever, and
/// none holds its scope for ever. Any number of AdminApi replicas may run it: the saga decides, once.
/// </summary>
public sealed class OperationWatchdog(
    OperationStore store, IBus bus, BackfillMetrics metrics, IOptions<OperationsOptions> options, TimeProvider time, ILogger<OperationWatchdog> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.WatchInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await WatchOnceAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The next tick looks again; Redis or the broker may be back by then.
                logger.LogWarning(ex, "The operation watchdog could not look at the running operations");
            }
        }
    }

    /// <summary>One look: asks the saga about every running operation that needs it; returns how many.</summary>
    public async Task<int> WatchOnceAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var asked = 0;
        var running = await store.ListAsync(OperationFilter.WithStatus(BackfillStatus.Running), 10_000);
        metrics.Observed(running, now);
        foreach (var operation in running)
        {
            if (Watchdog.NeedsAttention(operation, options.Value, now))
            {
                await bus.Publish(new WatchOperation(operation.CorrelationId), cancellationToken);
                asked++;
            }
        }

        return asked;
    }
}
