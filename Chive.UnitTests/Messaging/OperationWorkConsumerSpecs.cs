using System.Collections.Concurrent;
using Chive.Contracts.Operations;
using Chive.Messaging;
using Chive.Testing;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Chive.UnitTests.Messaging;

/// <summary>
/// The opening every chunk consumer shares: a chunk of an operation that no longer runs is dropped (after the consumer
/// gives back what it holds) and never runs; a chunk of a running operation runs with a token that trips on cancel.
/// </summary>
public sealed class OperationWorkConsumerSpecs : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private static readonly ConcurrentDictionary<Guid, string> Statuses = new();

    /// <summary>Operations whose first status question goes unanswered (a reply lost, e.g. to a process just restarted).</summary>
    private static readonly ConcurrentDictionary<Guid, bool> FirstQuestionLost = new();
    private ServiceProvider _provider = null!;
    private ITestHarness _harness = null!;

    public async Task InitializeAsync()
    {
        _provider = new ServiceCollection()
            .AddSingleton<OperationCancellation>()
            .AddSingleton<Journal>()
            .AddSingleton<IOperationChains, InMemoryOperationChains>()
            .AddMassTransitTestHarness(x =>
            {
                x.AddOperationWork();
                x.AddConsumer<StatusAnswerer>();
                x.AddConsumer<TestChunkConsumer>();
            })
            .BuildServiceProvider(true);
        _harness = _provider.GetRequiredService<ITestHarness>();
        _harness.TestTimeout = Timeout;
        await _harness.Start();
    }

    public async Task DisposeAsync()
    {
        await _harness.Stop();
        await _provider.DisposeAsync();
    }

    [Theory]
    [InlineData(BackfillStatus.Cancelled)]
    [InlineData(BackfillStatus.Completed)]
    [InlineData(BackfillStatus.Failed)]
    [InlineData(BackfillStatus.NotFound)]
    public async Task A_chunk_of_an_operation_that_no_longer_runs_is_dropped_after_giving_back_what_it_holds(string status)
    {
        var id = NewId.NextGuid();
        Statuses[id] = status;

        await _harness.Bus.Publish(new TestChunk(id));

        Assert.True(await _harness.GetConsumerHarness<TestChunkConsumer>().Consumed.Any<TestChunk>(m => m.Context.Message.OperationId == id));
        var journal = _provider.GetRequiredService<Journal>();
        Assert.Equal([$"dropped {status}"], journal.For(id));
    }

    [Fact]
    public async Task A_chunk_of_a_running_operation_runs_and_its_token_trips_when_the_operation_is_cancelled()
    {
        var id = NewId.NextGuid();
        Statuses[id] = BackfillStatus.Running;
        var journal = _provider.GetRequiredService<Journal>();

        await _harness.Bus.Publish(new TestChunk(id));
        await WaitUntilAsync(() => journal.For(id).Contains("started"));
        await _harness.Bus.Publish(new BackfillCancelled(id, "test"));

        await WaitUntilAsync(() => journal.For(id).Contains("cancelled"));
        Assert.Equal(["started", "cancelled"], journal.For(id));
    }

    [Fact]
    public async Task A_status_question_left_unanswered_is_asked_again_instead_of_failing_the_unit()
    {
        var id = NewId.NextGuid();
        Statuses[id] = BackfillStatus.Cancelled;
        FirstQuestionLost[id] = true;
        var journal = _provider.GetRequiredService<Journal>();

        await _harness.Bus.Publish(new TestChunk(id));

        await WaitUntilAsync(() => journal.For(id).Count > 0, OperationGate.StatusTimeout + Timeout);
        Assert.Equal([$"dropped {BackfillStatus.Cancelled}"], journal.For(id));
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? Timeout);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition never held");
            await Task.Delay(20);
        }
    }

    public sealed record TestChunk(Guid OperationId) : IOperationWork;

    public sealed class Journal
    {
        private readonly ConcurrentDictionary<Guid, ConcurrentQueue<string>> _entries = new();

        public void Add(Guid id, string entry) => _entries.GetOrAdd(id, _ => new()).Enqueue(entry);

        public List<string> For(Guid id) => _entries.TryGetValue(id, out var entries) ? entries.ToList() : [];
    }

    /// <summary>Stands in for the AdminApi's answer from the operation store.</summary>
    private sealed class StatusAnswerer : IConsumer<GetOperationStatus>
    {
        public Task Consume(ConsumeContext<GetOperationStatus> context) =>
            FirstQuestionLost.TryRemove(context.Message.OperationId, out _)
                ? Task.CompletedTask
                : context.RespondAsync(new OperationStatusReply(context.Message.OperationId, Statuses.GetValueOrDefault(context.Message.OperationId, BackfillStatus.NotFound)));
    }

    /// <summary>A unit that waits for its operation's cancel, as a long request would.</summary>
    private sealed class TestChunkConsumer(OperationGate gate, Journal journal) : OperationWorkConsumer<TestChunk>(gate)
    {
        protected override async Task ConsumeAsync(ConsumeContext<TestChunk> context, OperationUnit unit)
        {
            journal.Add(context.Message.OperationId, "started");
            try
            {
                await Task.Delay(Timeout * 2, unit.Token);
                journal.Add(context.Message.OperationId, "never cancelled");
            }
            catch (OperationCanceledException) when (unit.IsCancelled)
            {
                journal.Add(context.Message.OperationId, "cancelled");
            }
        }

        protected override Task DroppedAsync(ConsumeContext<TestChunk> context, string status)
        {
            journal.Add(context.Message.OperationId, $"dropped {status}");
            return Task.CompletedTask;
        }
    }
}
