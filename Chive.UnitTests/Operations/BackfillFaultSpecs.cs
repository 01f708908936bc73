using System.Reflection;
using System.Runtime.CompilerServices;
using Chive.AdminApi.Operations;
using Chive.AdminApi.OperationTypes;
using Chive.Contracts;
using Chive.Contracts.Operations;
using Chive.Messaging;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Chive.UnitTests.Operations;

/// <summary>
/// A work message that ends in the error queue fails its operation with the worker's error text — every work message
/// type, through the one generic fault consumer, without the saga knowing any of them.
/// </summary>
public sealed class BackfillFaultSpecs
{
    /// <summary>Every message type in the contracts that carries a unit of work.</summary>
    public static TheoryData<Type> WorkMessageTypes() => new(WorkTypes);

    private static IEnumerable<Type> WorkTypes =>
        typeof(IOperationWork).Assembly.GetTypes().Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IOperationWork).IsAssignableFrom(t));

    [Fact]
    public void The_contracts_hold_the_work_messages_of_every_built_type()
    {
        var names = WorkTypes.Select(t => t.Name).ToList();

        Assert.Contains("SyncGovernanceChunk", names);
        Assert.Contains("StartPdsScan", names);
        Assert.Contains("ScanPdsChunk", names);
        Assert.Contains("StartDidSync", names);
        Assert.Contains("IndexRecords", names);
        Assert.Contains("SweepCollection", names);
        Assert.Contains("StartFullReindex", names);
        Assert.Contains("ReindexChunk", names);
    }

    [Theory]
    [MemberData(nameof(WorkMessageTypes))]
    public async Task A_faulted_work_message_of_any_type_fails_its_operation_with_its_error(Type workType)
    {
        await using var provider = new ServiceCollection()
            .AddSingleton(TimeProvider.System)
            .AddMetrics()
            .AddSingleton<BackfillMetrics>()
            .AddOperationTypes()
            .AddMassTransitTestHarness(x =>
            {
                x.AddSagaStateMachine<BackfillStateMachine, BackfillOperation>().InMemoryRepository();
                x.AddConsumer(typeof(FailingWorker<>).MakeGenericType(workType));
                x.AddOperationWorkFaults();
                x.AddRequestClient<BackfillRequested>();
            })
            .BuildServiceProvider(true);
        var harness = provider.GetRequiredService<ITestHarness>();
        harness.TestTimeout = TimeSpan.FromSeconds(10);
        await harness.Start();
        try
        {
            var saga = harness.GetSagaStateMachineHarness<BackfillStateMachine, BackfillOperation>();
            var id = NewId.NextGuid();
            // A full reindex: its own first message is not consumed here, so only the message below faults.
            await harness.GetRequestClient<BackfillRequested>().GetResponse<BackfillAccepted>(new BackfillRequested(
                id, BackfillOperationType.FullReindex, "*", "ops", new Dictionary<string, string>(), DateTimeOffset.UtcNow));

            await harness.Bus.Publish(WorkMessage(workType, id), workType);

            Assert.True((await saga.Exists(id, x => x.Failed, TimeSpan.FromSeconds(10))).HasValue, $"a faulted {workType.Name} did not fail the operation");
            var operation = saga.Sagas.Contains(id);
            Assert.Contains($"{workType.Name} said no", operation.Error, StringComparison.Ordinal);
            Assert.Contains(nameof(InvalidOperationException), operation.Error, StringComparison.Ordinal);
        }
        finally
        {
            await harness.Stop();
        }
    }

    /// <summary>An instance of a work message with only its operation id set (the fields do not matter to a fault).</summary>
    private static object WorkMessage(Type type, Guid operationId)
    {
        var message = RuntimeHelpers.GetUninitializedObject(type);
        type.GetProperty(nameof(IOperationWork.OperationId), BindingFlags.Public | BindingFlags.Instance)!.SetValue(message, operationId);
        return message;
    }

    private sealed class FailingWorker<T> : IConsumer<T> where T : class
    {
        public Task Consume(ConsumeContext<T> context) => throw new InvalidOperationException($"{typeof(T).Name} said no");
    }
}
