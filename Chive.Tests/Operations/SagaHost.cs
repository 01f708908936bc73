using Chive.AdminApi.Operations;
using Chive.AdminApi.OperationTypes;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Chive.Tests.Operations;

/// <summary>
/// The AdminApi's saga registration, exactly (<c>AddOperations</c>), on MassTransit's in-memory test harness, persisted
/// in the real Redis through our repository. Two hosts on one key prefix are two AdminApi replicas sharing the store.
/// </summary>
public sealed class SagaHost : IAsyncDisposable
{
    private SagaHost(ServiceProvider provider, ITestHarness harness)
    {
        Provider = provider;
        Harness = harness;
    }

    public ServiceProvider Provider { get; }

    public ITestHarness Harness { get; }

    public OperationStore Store => Provider.GetRequiredService<OperationStore>();

    public static async Task<SagaHost> StartAsync(IConnectionMultiplexer redis, OperationsOptions options, TimeSpan timeout)
    {
        var provider = new ServiceCollection()
            .AddSingleton(redis)
            .AddSingleton(Options.Create(options))
            .AddSingleton<OperationStore>()
            .AddSingleton(TimeProvider.System)
            .AddMetrics()
            .AddSingleton<BackfillMetrics>()
            .AddOperationTypes()
            .AddMassTransitTestHarness(x => x.AddOperations())
            .BuildServiceProvider(true);
        var harness = provider.GetRequiredService<ITestHarness>();
        harness.TestTimeout = timeout;
        await harness.Start();
        return new SagaHost(provider, harness);
    }

    public async ValueTask DisposeAsync()
    {
        await Harness.Stop();
        await Provider.DisposeAsync();
    }
}
