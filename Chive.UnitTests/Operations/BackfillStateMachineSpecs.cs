using Chive.AdminApi.Operations;
using Chive.AdminApi.OperationTypes;
using Chive.Contracts;
using Chive.Contracts.GovernanceSync;
using Chive.Contracts.Operations;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Chive.UnitTests.Operations;

/// <summary>The operation saga's transitions, with MassTransit's test harness (in-memory transport and repository).</summary>
public sealed class BackfillStateMachineSpecs : IAsyncLifetime
{

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private ServiceProvider _provider = null!;
    private ITestHarness _harness = null!;
    private ISagaStateMachineTestHarness<BackfillStateMachine, BackfillOperation> _saga = null!;

    public async Task InitializeAsync()
    {
        _provider = new ServiceCollection()
            .AddSingleton(TimeProvider.System)
            .AddMetrics()
            .AddSingleton<BackfillMetrics>()
            .AddOperationTypes()
            .AddMassTransitTestHarness(x =>
            {
                x.AddSagaStateMachine<BackfillStateMachine, BackfillOperation>().InMemoryRepository();
                x.AddRequestClient<BackfillRequested>();
                x.AddRequestClient<CancelBackfill>();
            })
            .BuildServiceProvider(true);
        _harness = _provider.GetRequiredService<ITestHarness>();
        _harness.TestTimeout = Timeout;
        await _harness.Start();
        _saga = _harness.GetSagaStateMachineHarness<BackfillStateMachine, BackfillOperation>();
    }

    public async Task DisposeAsync()
    {
        await _harness.Stop();
        await _provider.DisposeAsync();
    }

    [Fact]
    public async Task A_request_records_a_running_operation_starts_its_work_and_answers()
    {
        var id = NewId.NextGuid();

        var accepted = await RequestAsync(id);

        Assert.Equal(id, accepted.OperationId);
        var operation = await RunningAsync(id);
        Assert.Equal(BackfillOperationType.GovernanceSync, operation.Type);
        Assert.Equal("ops", operation.Metadata["startedBy"]);
        Assert.Equal(0, operation.Progress);
        Assert.True(await _harness.Published.Any<SyncGovernanceChunk>(m => m.Context.Message.OperationId == id));
    }

    [Fact]
    public async Task Progress_and_records_never_go_backwards_and_stay_below_100_while_running()
    {
        var id = NewId.NextGuid();
        await RequestAsync(id);

        await PublishAndWaitAsync(new BackfillProgressed(id, 40, 400));
        await PublishAndWaitAsync(new BackfillProgressed(id, 10, 100));
        var operation = await RunningAsync(id);
        Assert.Equal((40, 400L), (operation.Progress, operation.RecordsProcessed));

        await PublishAndWaitAsync(new BackfillProgressed(id, 150, 500));
        Assert.Equal(99, (await RunningAsync(id)).Progress);
    }

    [Fact]
    public async Task Completion_sets_100_the_final_count_and_the_end_time()
    {
        var id = NewId.NextGuid();
        await RequestAsync(id);

        await PublishAndWaitAsync(new BackfillWorkCompleted(id, 1234));

        var operation = await InStateAsync(id, _saga.StateMachine.Completed);
        Assert.Equal(100, operation.Progress);
        Assert.Equal(1234, operation.RecordsProcessed);
        Assert.NotNull(operation.CompletedAt);
        Assert.Equal(BackfillStatus.Completed, operation.Status);
    }

    [Fact]
    public async Task Late_progress_completion_or_failure_after_a_cancel_change_nothing()
    {
        var id = NewId.NextGuid();
        await RequestAsync(id);
        await PublishAndWaitAsync(new BackfillProgressed(id, 30, 30));

        var cancelled = await CancelAsync(id);
        Assert.True(cancelled.Success);
        Assert.True(await _harness.Published.Any<BackfillCancelled>(m => m.Context.Message.OperationId == id));

        await PublishAndWaitAsync(new BackfillProgressed(id, 90, 900));
        await PublishAndWaitAsync(new BackfillWorkCompleted(id, 1000));
        await PublishAndWaitAsync(new BackfillWorkFailed(id, "late"));

        var operation = await InStateAsync(id, _saga.StateMachine.Cancelled);
        Assert.Equal((30, 30L, (string?)null), (operation.Progress, operation.RecordsProcessed, operation.Error));
        Assert.Equal(BackfillStatus.Cancelled, operation.Status);
    }

    [Fact]
    public async Task A_second_cancel_and_a_cancel_of_a_finished_operation_report_no_success()
    {
        var running = NewId.NextGuid();
        await RequestAsync(running);
        Assert.True((await CancelAsync(running)).Success);
        var again = await CancelAsync(running);
        Assert.Equal((false, BackfillStatus.Cancelled), (again.Success, again.Status));

        var done = NewId.NextGuid();
        await RequestAsync(done);
        await PublishAndWaitAsync(new BackfillWorkCompleted(done, 1));
        await InStateAsync(done, _saga.StateMachine.Completed);
        var late = await CancelAsync(done);
        Assert.Equal((false, BackfillStatus.Completed), (late.Success, late.Status));
    }

    [Fact]
    public async Task Cancelling_an_unknown_operation_says_not_found()
    {
        var result = await CancelAsync(NewId.NextGuid());
        Assert.Equal((false, "notFound"), (result.Success, result.Status));
    }

    [Fact]
    public async Task A_duplicate_request_answers_again_without_starting_the_work_twice()
    {
        var id = NewId.NextGuid();
        await RequestAsync(id);
        await RequestAsync(id);

        Assert.Equal(1, _harness.Published.Select<SyncGovernanceChunk>().Count(m => m.Context.Message.OperationId == id));
    }

    [Fact]
    public async Task Completion_before_any_progress_completes_and_later_progress_is_ignored()
    {
        var id = NewId.NextGuid();
        await RequestAsync(id);

        await PublishAndWaitAsync(new BackfillWorkCompleted(id, 7));
        await PublishAndWaitAsync(new BackfillProgressed(id, 50, 3));

        var operation = await InStateAsync(id, _saga.StateMachine.Completed);
        Assert.Equal((100, 7L), (operation.Progress, operation.RecordsProcessed));
    }

    [Fact]
    public async Task Facts_about_an_operation_that_does_not_exist_are_dropped()
    {
        var id = NewId.NextGuid();
        await PublishAndWaitAsync(new BackfillProgressed(id, 10, 10));
        await PublishAndWaitAsync(new BackfillWorkCompleted(id, 10));

        Assert.False(await _saga.Created.Any(x => x.CorrelationId == id));
    }

    private async Task<BackfillAccepted> RequestAsync(Guid id)
    {
        var client = _harness.GetRequestClient<BackfillRequested>();
        var response = await client.GetResponse<BackfillAccepted>(new BackfillRequested(
            id, BackfillOperationType.GovernanceSync, "*", "ops", new Dictionary<string, string>(), DateTimeOffset.UtcNow));
        return response.Message;
    }

    private async Task<CancelBackfillResult> CancelAsync(Guid id)
    {
        var client = _harness.GetRequestClient<CancelBackfill>();
        return (await client.GetResponse<CancelBackfillResult>(new CancelBackfill(id, "ops"))).Message;
    }

    private async Task PublishAndWaitAsync<T>(T message) where T : class
    {
        await _harness.Bus.Publish(message);

        // The harness's Any() returns false at once when it thinks the bus is idle; poll what was consumed instead.
        var deadline = DateTime.UtcNow + Timeout;
        while (!_harness.Consumed.Select<T>(m => Equals(m.Context.Message, message)).Any())
        {
            Assert.True(DateTime.UtcNow < deadline, $"{typeof(T).Name} not consumed");
            await Task.Delay(10);
        }
    }

    private Task<BackfillOperation> RunningAsync(Guid id) => InStateAsync(id, _saga.StateMachine.Running);

    private async Task<BackfillOperation> InStateAsync(Guid id, MassTransit.State state)
    {
        var found = await _saga.Exists(id, x => state, Timeout);
        Assert.True(found.HasValue, $"operation {id} did not reach {state.Name}");
        return _saga.Sagas.Contains(id);
    }
}
