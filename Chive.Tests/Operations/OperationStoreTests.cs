using System.Diagnostics;
using Chive.AdminApi.Operations;
using Chive.Contracts;
using Chive.Contracts.Operations;
using Chive.Tests.Infrastructure;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using StackExchange.Redis.Profiling;
using Xunit.Abstractions;

namespace Chive.Tests.Operations;

/// <summary>The operation store against the real Redis server; each test writes under its own key prefix.</summary>
public sealed class OperationStoreTests(ITestOutputHelper output) : IAsyncLifetime
{
    private ConnectionMultiplexer _redis = null!;
    private ProfilingSession? _session;
    private readonly OperationsOptions _options = new() { KeyPrefix = $"test:{Guid.NewGuid():N}:" };

    public async Task InitializeAsync()
    {
        _redis = await ConnectionMultiplexer.ConnectAsync(TestServers.Redis);
        _redis.RegisterProfiler(() => _session);
    }

    public async Task DisposeAsync()
    {
        var server = _redis.GetServer(_redis.GetEndPoints()[0]);
        await foreach (var key in server.KeysAsync(pattern: _options.KeyPrefix + "*"))
        {
            await _redis.GetDatabase().KeyDeleteAsync(key);
        }

        await _redis.DisposeAsync();
    }

    private OperationStore Store => new(_redis, Options.Create(_options));

    [Fact]
    public async Task Fifty_concurrent_updates_to_one_operation_are_all_applied()
    {
        var store = Store;
        var operation = Running(DateTimeOffset.UtcNow);
        Assert.True(await store.InsertAsync(operation));

        var conflicts = 0;
        await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Task.Run(async () =>
        {
            while (true)
            {
                var current = (await store.GetAsync(operation.CorrelationId))!;
                current.Metadata[$"writer{i}"] = "done";
                var expected = current.Version;
                current.Version++;
                if (await store.TryUpdateAsync(current, expected))
                {
                    return;
                }

                Interlocked.Increment(ref conflicts);
            }
        })));

        var final = (await store.GetAsync(operation.CorrelationId))!;
        Assert.Equal(50, final.Metadata.Keys.Count(k => k.StartsWith("writer", StringComparison.Ordinal)));
        Assert.Equal(51, final.Version);
        output.WriteLine($"50 writers, {conflicts} version conflicts retried");
    }

    [Fact]
    public async Task A_running_operation_never_expires_and_a_finished_one_gets_the_retention()
    {
        _options.Retention = TimeSpan.FromHours(24);
        var store = Store;
        var operation = Running(DateTimeOffset.UtcNow);
        await store.InsertAsync(operation);
        var key = _options.KeyPrefix + "op:" + operation.CorrelationId.ToString("D");

        Assert.Null(await _redis.GetDatabase().KeyTimeToLiveAsync(key));

        operation.CurrentState = "Completed";
        operation.CompletedAt = DateTimeOffset.UtcNow;
        operation.Version++;
        Assert.True(await store.TryUpdateAsync(operation, 1));

        var ttl = await _redis.GetDatabase().KeyTimeToLiveAsync(key);
        Assert.InRange(ttl!.Value, TimeSpan.FromHours(23.9), TimeSpan.FromHours(24));
    }

    [Fact]
    public async Task Listing_takes_one_round_trip_whatever_the_number_of_operations()
    {
        var store = Store;
        var start = DateTimeOffset.UtcNow.AddHours(-1);
        await SeedAsync(store, 1000, start);

        _session = new ProfilingSession();
        var all = await store.ListAsync(OperationFilter.All, 1000);
        var history = await store.ListAsync(OperationFilter.Finished, 50);
        var running = await store.ListAsync(OperationFilter.WithStatus(BackfillStatus.Running), 1000);
        var commands = _session.FinishProfiling().Select(c => c.Command).ToList();
        _session = null;

        Assert.Equal(1000, all.Count);
        Assert.Equal(50, history.Count);
        Assert.All(history, o => Assert.NotEqual(BackfillStatus.Running, o.Status));
        Assert.All(running, o => Assert.Equal(BackfillStatus.Running, o.Status));
        Assert.Equal(3, commands.Count); // one script call per listing
        Assert.All(commands, c => Assert.StartsWith("EVAL", c, StringComparison.Ordinal));
        Assert.Equal(all.OrderByDescending(o => o.StartedAt).Select(o => o.CorrelationId), all.Select(o => o.CorrelationId));
    }

    [Fact]
    public async Task History_pages_follow_a_cursor_without_repeats_or_gaps_even_with_equal_start_times()
    {
        var store = Store;
        var sameInstant = DateTimeOffset.UtcNow.AddMinutes(-5);
        for (var i = 0; i < 25; i++)
        {
            var operation = Running(i % 2 == 0 ? sameInstant : sameInstant.AddSeconds(i));
            operation.CurrentState = "Completed";
            await store.InsertAsync(operation);
        }

        var seen = new List<Guid>();
        BackfillOperation? after = null;
        while (true)
        {
            var page = await store.ListAsync(OperationFilter.Finished, 7, after);
            if (page.Count == 0)
            {
                break;
            }

            seen.AddRange(page.Select(o => o.CorrelationId));
            after = page[^1];
        }

        Assert.Equal(25, seen.Count);
        Assert.Equal(25, seen.Distinct().Count());
    }

    [Fact]
    public async Task Expired_operations_disappear_from_listings_and_the_index()
    {
        _options.Retention = TimeSpan.FromMilliseconds(300);
        var store = Store;
        var finished = Running(DateTimeOffset.UtcNow);
        finished.CurrentState = "Failed";
        await store.InsertAsync(finished);
        await store.InsertAsync(Running(DateTimeOffset.UtcNow));

        await Task.Delay(600);
        var listed = await store.ListAsync(OperationFilter.All, 100);

        Assert.Single(listed);
        Assert.Equal(1, await _redis.GetDatabase().SortedSetLengthAsync(_options.KeyPrefix + "ops"));
    }

    [Fact]
    public async Task Listing_time_with_1000_and_10000_retained_operations()
    {
        var store = Store;
        var start = DateTimeOffset.UtcNow.AddDays(-1);
        await SeedAsync(store, 1000, start);
        var thousand = await TimeListingAsync(store);
        await SeedAsync(store, 9000, start.AddHours(1));
        var tenThousand = await TimeListingAsync(store);

        output.WriteLine($"getBackfillStatus (running, all) with 1,000 operations: {thousand.Status:F1} ms; history page of 50: {thousand.History:F1} ms");
        output.WriteLine($"getBackfillStatus (running, all) with 10,000 operations: {tenThousand.Status:F1} ms; history page of 50: {tenThousand.History:F1} ms");
        Assert.True(tenThousand.Status < 5000, "listing 10,000 operations took over 5 s");
    }

    private static async Task<(double Status, double History)> TimeListingAsync(OperationStore store)
    {
        await store.ListAsync(OperationFilter.WithStatus(BackfillStatus.Running), 10_000); // warm the script cache
        var watch = Stopwatch.StartNew();
        await store.ListAsync(OperationFilter.WithStatus(BackfillStatus.Running), 10_000);
        var status = watch.Elapsed.TotalMilliseconds;
        watch.Restart();
        await store.ListAsync(OperationFilter.Finished, 50);
        return (status, watch.Elapsed.TotalMilliseconds);
    }

    private static async Task SeedAsync(OperationStore store, int count, DateTimeOffset start)
    {
        var statuses = new[] { "Running", "Completed", "Failed", "Cancelled" };
        var inserts = Enumerable.Range(0, count).Select(i =>
        {
            var operation = Running(start.AddMilliseconds(i * 10));
            operation.CurrentState = statuses[i % 4];
            return store.InsertAsync(operation);
        });
        await Task.WhenAll(inserts);
    }

    private static BackfillOperation Running(DateTimeOffset startedAt) => new()
    {
        CorrelationId = Guid.NewGuid(),
        CurrentState = "Running",
        Version = 1,
        Type = BackfillOperationType.GovernanceSync,
        StartedAt = startedAt,
        Metadata = new Dictionary<string, string> { ["startedBy"] = "test" },
    };
}
