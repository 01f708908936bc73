using System.Collections.Concurrent;
using Chive.AdminApi.Operations;
using Chive.AdminApi.OperationTypes;
using Chive.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Chive.UnitTests.Operations;

/// <summary>
/// The scheduler goes through the same trigger as the admin method (whose per-scope claim, tested end to end in
/// GovernanceSyncTests, is what keeps runs from overlapping).
/// </summary>
public sealed class OperationSchedulerTests
{
    [Fact]
    public async Task Scheduled_runs_go_through_the_trigger_as_the_scheduler_after_each_interval()
    {
        var trigger = new RecordingTrigger();
        await RunSchedulerAsync(trigger, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(1050));

        Assert.InRange(trigger.Calls.Count, 3, 11); // ~10 ticks; a loaded machine may delay some
        Assert.All(trigger.Calls, c => Assert.Equal((BackfillOperationType.GovernanceSync, "*", OperationScheduler.StartedBy), c));
    }

    [Fact]
    public async Task A_scheduled_freshness_scan_checks_everything_due()
    {
        var trigger = new RecordingTrigger();
        await RunSchedulerAsync(trigger, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(450), BackfillOperationType.FreshnessScan);

        Assert.NotEmpty(trigger.Calls);
        Assert.All(trigger.Calls, c => Assert.Equal((BackfillOperationType.FreshnessScan, "due", OperationScheduler.StartedBy), c));
    }

    [Fact]
    public async Task No_run_happens_during_start_up_or_when_the_interval_is_zero()
    {
        var slow = new RecordingTrigger();
        await RunSchedulerAsync(slow, TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(300));
        Assert.Empty(slow.Calls);

        var off = new RecordingTrigger();
        await RunSchedulerAsync(off, TimeSpan.Zero, TimeSpan.FromMilliseconds(300));
        Assert.Empty(off.Calls);
    }

    private static async Task RunSchedulerAsync(RecordingTrigger trigger, TimeSpan interval, TimeSpan runFor, string type = BackfillOperationType.GovernanceSync)
    {
        await using var services = new ServiceCollection().AddScoped<IOperationTrigger>(_ => trigger).AddOperationTypes().BuildServiceProvider();
        using var scheduler = new OperationScheduler(
            services.GetRequiredService<IServiceScopeFactory>(), type, interval, TimeProvider.System, NullLogger<OperationScheduler>.Instance);
        await scheduler.StartAsync(CancellationToken.None);
        await Task.Delay(runFor);
        await scheduler.StopAsync(CancellationToken.None);
    }

    private sealed class RecordingTrigger : IOperationTrigger
    {
        public ConcurrentQueue<(string Type, string Scope, string StartedBy)> Calls { get; } = new();

        public Task<(BackfillOperation Operation, bool AlreadyRunning)> StartAsync(
            string type, Chive.AdminApi.OperationTypes.OperationInput input, string startedBy, CancellationToken cancellationToken)
        {
            Calls.Enqueue((type, input.Scope, startedBy));
            return Task.FromResult((new BackfillOperation { CorrelationId = Guid.NewGuid(), Type = type, CurrentState = "Running" }, false));
        }
    }
}
