using Chive.AdminApi.Operations;
using Chive.Contracts;
using Chive.Contracts.Operations;
using Chive.Tests.Infrastructure;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Chive.Tests.Operations;

/// <summary>The saga persisted in the real Redis through our repository (MassTransit's in-memory transport).</summary>
public sealed class RedisSagaRepositoryTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);
    private readonly OperationsOptions _options = new() { KeyPrefix = $"test:{Guid.NewGuid():N}:" };
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

    [Fact]
    public async Task An_operation_lives_in_Redis_from_request_to_cancel_and_late_facts_change_nothing()
    {
        var id = NewId.NextGuid();
        await _harness.GetRequestClient<BackfillRequested>().GetResponse<BackfillAccepted>(Request(id));

        var running = await Store.GetAsync(id);
        Assert.Equal(BackfillStatus.Running, running?.Status);

        var cancel = await _harness.GetRequestClient<CancelBackfill>().GetResponse<CancelBackfillResult>(new CancelBackfill(id, "ops"));
        Assert.True(cancel.Message.Success);

        await _harness.Bus.Publish(new BackfillWorkCompleted(id, 99));
        await _harness.Bus.Publish(new BackfillProgressed(id, 80, 80));
        await WaitUntilAsync(() => _harness.Consumed.Select<BackfillProgressed>(m => m.Context.Message.OperationId == id).Any());

        var stored = (await Store.GetAsync(id))!;
        Assert.Equal(BackfillStatus.Cancelled, stored.Status);
        Assert.Equal((0, 0L), (stored.Progress, stored.RecordsProcessed));
        Assert.NotNull(await _redis.GetDatabase().KeyTimeToLiveAsync(_options.KeyPrefix + "op:" + id.ToString("D")));
    }

    [Fact]
    public async Task Fifty_concurrent_progress_reports_end_at_the_highest()
    {
        var id = NewId.NextGuid();
        await _harness.GetRequestClient<BackfillRequested>().GetResponse<BackfillAccepted>(Request(id));

        await Task.WhenAll(Enumerable.Range(1, 50).Select(i => _harness.Bus.Publish(new BackfillProgressed(id, i, i * 10))));
        await WaitUntilAsync(() => _harness.Consumed.Select<BackfillProgressed>(m => m.Context.Message.OperationId == id).Count() >= 50);
        await WaitUntilAsync(() => Store.GetAsync(id).Result?.RecordsProcessed == 500);

        var stored = (await Store.GetAsync(id))!;
        Assert.Equal((50, 500L), (stored.Progress, stored.RecordsProcessed));
        Assert.False(_harness.Published.Select<Fault<BackfillProgressed>>().Any());
    }

    private static BackfillRequested Request(Guid id) =>
        new(id, BackfillOperationType.GovernanceSync, "*", "ops", new Dictionary<string, string>(), DateTimeOffset.UtcNow);

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached in time");
            await Task.Delay(20);
        }
    }
}
