using Chive.AdminApi.Operations;
using Chive.AdminApi.OperationTypes;
using Chive.Contracts;
using Chive.Contracts.GovernanceSync;
using Chive.Contracts.Operations;
using Chive.Messaging;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Chive.UnitTests.Operations;

/// <summary>A worker message that ends in the error queue fails its operation with the worker's error text.</summary>
public sealed class BackfillFaultSpecs
{
    [Fact]
    public async Task A_faulted_work_message_fails_the_operation_with_its_error()
    {
        await using var provider = new ServiceCollection()
            .AddSingleton(TimeProvider.System)
            .AddSingleton<BackfillMetrics>()
            .AddOperationTypes()
            .AddMassTransitTestHarness(x =>
            {
                x.AddSagaStateMachine<BackfillStateMachine, BackfillOperation>().InMemoryRepository();
                x.AddConsumer<FailingGovernanceWorker>();
                x.AddOperationWorkFaults();
                x.AddRequestClient<BackfillRequested>();
            })
            .BuildServiceProvider(true);
        var harness = provider.GetRequiredService<ITestHarness>();
        harness.TestTimeout = TimeSpan.FromSeconds(10);
        await harness.Start();
        var saga = harness.GetSagaStateMachineHarness<BackfillStateMachine, BackfillOperation>();
        var id = NewId.NextGuid();

        await harness.GetRequestClient<BackfillRequested>().GetResponse<BackfillAccepted>(new BackfillRequested(
            id, BackfillOperationType.GovernanceSync, "*", "ops", new Dictionary<string, string>(), DateTimeOffset.UtcNow));

        Assert.True((await saga.Exists(id, x => x.Failed, TimeSpan.FromSeconds(10))).HasValue, "the operation did not fail");
        var operation = saga.Sagas.Contains(id);
        Assert.Contains("the PDS said no", operation.Error, StringComparison.Ordinal);
        Assert.Contains(nameof(InvalidOperationException), operation.Error, StringComparison.Ordinal);
        await harness.Stop();
    }

    private sealed class FailingGovernanceWorker : IConsumer<SyncGovernanceChunk>
    {
        public Task Consume(ConsumeContext<SyncGovernanceChunk> context) => throw new InvalidOperationException("the PDS said no");
    }
}
