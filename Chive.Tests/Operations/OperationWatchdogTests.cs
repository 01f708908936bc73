using Chive.AdminApi.Operations;
using Chive.AdminApi.OperationTypes;
using Chive.Contracts;
using Chive.Contracts.GovernanceSync;
using Chive.Contracts.Operations;
using Chive.Tests.Infrastructure;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Chive.Tests.Operations;

/// <summary>
/// No operation runs for ever: the watchdog (against the real Redis store, the real saga, no worker) sends a start
/// that was never heard of again, then fails an operation nothing is heard from as stalled and releases its scope;
/// reports keep an operation alive.
/// </summary>
public sealed class OperationWatchdogTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private readonly OperationsOptions _options = new()
    {
        KeyPrefix = $"test:{Guid.NewGuid():N}:",
        StallTimeout = TimeSpan.FromSeconds(3),
        StartResendAfter = TimeSpan.FromSeconds(1),
        MaxStartResends = 1,
    };

    private ConnectionMultiplexer _redis = null!;
    private SagaHost _host = null!;
    private ServiceProvider _provider = null!;
    private ITestHarness _harness = null!;

    public async Task InitializeAsync()
    {
        _redis = await ConnectionMultiplexer.ConnectAsync(TestServers.Redis);
        _host = await SagaHost.StartAsync(_redis, _options, Timeout);
        _provider = _host.Provider;
        _harness = _host.Harness;
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _redis.DisposeAsync();
    }

    private OperationStore Store => _provider.GetRequiredService<OperationStore>();

    private OperationWatchdog Watchdog => new(Store, _harness.Bus, _provider.GetRequiredService<BackfillMetrics>(), Options.Create(_options), TimeProvider.System, NullLogger<OperationWatchdog>.Instance);

    private OperationTrigger Trigger => new(Store, _harness.GetRequestClient<BackfillRequested>(), TimeProvider.System);

    private static OperationInput Everything => new(OperationInput.Everything, new Dictionary<string, string>());

    [Fact]
    public async Task An_operation_no_worker_hears_of_gets_its_start_again_then_fails_as_stalled_and_frees_its_scope()
    {
        var (operation, _) = await Trigger.StartAsync(BackfillOperationType.GovernanceSync, Everything, "ops", default);
        var id = operation.CorrelationId;

        var failed = await WatchUntilAsync(id, o => o.IsFinished);

        Assert.Equal(BackfillStatus.Failed, failed.Status);
        Assert.StartsWith("stalled: no progress since", failed.Error, StringComparison.Ordinal);
        Assert.Equal("1", failed.Metadata[BackfillOperation.StartResendsKey]);
        Assert.Equal(2, _harness.Published.Select<SyncGovernanceChunk>(m => m.Context.Message.OperationId == id).Count());
        Assert.NotNull(await _redis.GetDatabase().KeyTimeToLiveAsync($"{_options.KeyPrefix}scope:{BackfillOperationType.GovernanceSync}:*"));
        var (next, alreadyRunning) = await Trigger.StartAsync(BackfillOperationType.GovernanceSync, Everything, "ops", default);
        Assert.False(alreadyRunning);
        Assert.NotEqual(id, next.CorrelationId);
    }

    [Fact]
    public async Task Reports_keep_an_operation_alive_and_the_stall_clock_starts_at_the_last_one()
    {
        var (operation, _) = await Trigger.StartAsync(BackfillOperationType.FullReindex, Everything, "ops", default);
        var id = operation.CorrelationId;
        var reporting = DateTime.UtcNow + TimeSpan.FromSeconds(6); // twice the stall timeout
        for (var i = 1; DateTime.UtcNow < reporting; i++)
        {
            await _harness.Bus.Publish(new BackfillProgressed(id, i, i));
            await Watchdog.WatchOnceAsync(default);
            await Task.Delay(400);
        }

        Assert.False((await Store.GetAsync(id))!.IsFinished);
        var lastReport = DateTimeOffset.UtcNow;

        var failed = await WatchUntilAsync(id, o => o.IsFinished);
        Assert.Equal(BackfillStatus.Failed, failed.Status);
        Assert.True(failed.CompletedAt - lastReport >= TimeSpan.FromSeconds(2), $"failed {failed.CompletedAt - lastReport} after the last report");
        Assert.False(failed.Metadata.ContainsKey(BackfillOperation.StartResendsKey)); // it was heard from, so never sent again
    }

    [Fact]
    public async Task A_finished_operation_is_left_alone()
    {
        var (operation, _) = await Trigger.StartAsync(BackfillOperationType.FullReindex, Everything, "ops", default);
        await _harness.Bus.Publish(new BackfillWorkCompleted(operation.CorrelationId, 5));
        await WatchUntilAsync(operation.CorrelationId, o => o.IsFinished);
        await Task.Delay(_options.StallTimeout);

        Assert.Equal(0, await Watchdog.WatchOnceAsync(default));
        Assert.Equal(BackfillStatus.Completed, (await Store.GetAsync(operation.CorrelationId))!.Status);
    }

    private async Task<BackfillOperation> WatchUntilAsync(Guid id, Func<BackfillOperation, bool> condition)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            var operation = (await Store.GetAsync(id))!;
            if (condition(operation))
            {
                return operation;
            }

            Assert.True(DateTime.UtcNow < deadline, $"operation {id} stayed {operation.Status}");
            await Watchdog.WatchOnceAsync(default);
            await Task.Delay(200);
        }
    }
}
