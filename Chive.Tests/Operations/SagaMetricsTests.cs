using System.Diagnostics.Metrics;
using Chive.AdminApi.Operations;
using Chive.Contracts;
using Chive.Contracts.Operations;
using Chive.Tests.Infrastructure;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Chive.Tests.Operations;

/// <summary>
/// The backfill counters against two AdminApi "replicas" — two saga endpoints on one Redis store — that receive the
/// two final facts of each operation at the same moment: the loser of each race either loads the finished operation
/// or has its update overtaken (a <see cref="ConcurrencyException"/>, retried on fresh state). Either way every
/// operation is counted started once and finished once, across both.
/// </summary>
public sealed class SagaMetricsTests : IAsyncLifetime
{
    private const int Operations = 40;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly OperationsOptions _options = new() { KeyPrefix = $"test:{Guid.NewGuid():N}:" };
    private readonly List<(string Status, long Value)> _counted = [];
    private readonly Lock _gate = new();
    private ConnectionMultiplexer _redis = null!;
    private SagaHost _a = null!;
    private SagaHost _b = null!;
    private MeterListener _listener = null!;

    public async Task InitializeAsync()
    {
        _redis = await ConnectionMultiplexer.ConnectAsync(TestServers.Redis);
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == BackfillMetrics.MeterName && instrument.Name == "chive_backfill_operations_total")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            // Only this test's two replicas: the listener hears every "Chive.AdminApi" meter in the process, and other
            // test classes start operations on saga hosts of their own meanwhile (xunit runs classes in parallel).
            if (!IsOurs(instrument.Meter))
            {
                return;
            }

            var status = tags.ToArray().Single(t => t.Key == "status").Value as string ?? "";
            lock (_gate)
            {
                _counted.Add((status, value));
            }
        });
        _listener.Start();
        _a = await SagaHost.StartAsync(_redis, _options, Timeout);
        _b = await SagaHost.StartAsync(_redis, _options, Timeout);
    }

    private bool IsOurs(Meter meter) =>
        meter.Scope is not null && (ReferenceEquals(meter.Scope, _a?.Provider.GetService<IMeterFactory>()) || ReferenceEquals(meter.Scope, _b?.Provider.GetService<IMeterFactory>()));

    public async Task DisposeAsync()
    {
        _listener.Dispose();
        await _a.DisposeAsync();
        await _b.DisposeAsync();

        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task Every_operation_is_counted_started_once_and_finished_once_across_racing_replicas()
    {
        var ids = Enumerable.Range(0, Operations).Select(_ => NewId.NextGuid()).ToList();
        foreach (var id in ids)
        {
            await _a.Harness.GetRequestClient<BackfillRequested>().GetResponse<BackfillAccepted>(
                new BackfillRequested(id, BackfillOperationType.GovernanceSync, "*", "ops", new Dictionary<string, string>(), DateTimeOffset.UtcNow));
        }

        // Both final facts of each operation at once, one to each replica.
        await Task.WhenAll(ids.SelectMany(id => new[]
        {
            _a.Harness.Bus.Publish(new BackfillWorkCompleted(id, 10)),
            _b.Harness.Bus.Publish(new BackfillWorkFailed(id, "the other replica's fact")),
        }));
        var store = _a.Store;
        var deadline = DateTime.UtcNow + Timeout;
        foreach (var id in ids)
        {
            while ((await store.GetAsync(id))?.IsFinished != true)
            {
                Assert.True(DateTime.UtcNow < deadline, $"operation {id} did not finish");
                await Task.Delay(20);
            }
        }

        // Late retries of the losers have had time to run (and count nothing).
        await Task.Delay(1000);
        List<(string Status, long Value)> counted;
        lock (_gate)
        {
            counted = [.. _counted];
        }

        Assert.Equal(Operations, counted.Where(c => c.Status == "started").Sum(c => c.Value));
        Assert.Equal(Operations, counted.Where(c => c.Status is "completed" or "failed").Sum(c => c.Value));
        var finishedAs = (await Task.WhenAll(ids.Select(store.GetAsync))).GroupBy(o => o!.Status).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(finishedAs.GetValueOrDefault("completed"), counted.Count(c => c.Status == "completed"));
        Assert.Equal(finishedAs.GetValueOrDefault("failed"), counted.Count(c => c.Status == "failed"));
    }
}
