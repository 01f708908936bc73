using Chive.Contracts;
using Chive.Contracts.GovernanceSync;
using Chive.Contracts.Operations;
using MassTransit;

namespace Chive.AdminApi.Operations;

/// <summary>
/// The lifecycle of every backfill operation, and the only writer of its status. Workers report facts; this decides.
/// Running → Completed | Failed | Cancelled, and a finished operation never changes again: late progress, late
/// completion and late failures are ignored. Progress and the record count never go backwards, and progress reaches
/// 100 only on completion. The machine never finalizes: finished operations stay (with a TTL) for the history.
/// </summary>
public sealed class BackfillStateMachine : MassTransitStateMachine<BackfillOperation>
{
    public BackfillStateMachine(BackfillMetrics metrics, TimeProvider time)
    {
        InstanceState(x => x.CurrentState);

        Event(() => Requested, e => e.CorrelateById(m => m.Message.OperationId));
        Event(() => Progressed, e => { e.CorrelateById(m => m.Message.OperationId); e.OnMissingInstance(m => m.Discard()); });
        Event(() => WorkCompleted, e => { e.CorrelateById(m => m.Message.OperationId); e.OnMissingInstance(m => m.Discard()); });
        Event(() => WorkFailed, e => { e.CorrelateById(m => m.Message.OperationId); e.OnMissingInstance(m => m.Discard()); });
        Event(() => GovernanceChunkFaulted, e => { e.CorrelateById(m => m.Message.Message.OperationId); e.OnMissingInstance(m => m.Discard()); });
        Event(() => CancelRequested, e =>
        {
            e.CorrelateById(m => m.Message.OperationId);
            e.OnMissingInstance(m => m.ExecuteAsync(c => c.RespondAsync(new CancelBackfillResult(c.Message.OperationId, false, "notFound"))));
        });

        Initially(
            When(Requested)
                .Then(c =>
                {
                    var m = c.Message;
                    c.Saga.Type = m.Type;
                    c.Saga.Scope = m.Scope;
                    c.Saga.StartedAt = m.RequestedAt;
                    c.Saga.Metadata = new Dictionary<string, string>(m.Metadata) { ["startedBy"] = m.StartedBy };
                })
                .TransitionTo(Running)
                .Then(c => metrics.Started(c.Saga))
                .ThenAsync(c => StartWorkAsync(c, c.Saga))
                .Respond(c => new BackfillAccepted(c.Saga.CorrelationId)));

        During(Running,
            When(Requested)
                .Respond(c => new BackfillAccepted(c.Saga.CorrelationId)),
            When(Progressed)
                .Then(c =>
                {
                    c.Saga.Progress = Math.Max(c.Saga.Progress, Math.Clamp(c.Message.Progress, 0, 99));
                    c.Saga.RecordsProcessed = Math.Max(c.Saga.RecordsProcessed, c.Message.RecordsProcessed);
                }),
            When(WorkCompleted)
                .Then(c =>
                {
                    c.Saga.Progress = 100;
                    c.Saga.RecordsProcessed = Math.Max(c.Saga.RecordsProcessed, c.Message.RecordsProcessed);
                    c.Saga.CompletedAt = time.GetUtcNow();
                    foreach (var (key, value) in c.Message.Details ?? new Dictionary<string, string>())
                    {
                        c.Saga.Metadata.TryAdd(key, value);
                    }
                })
                .TransitionTo(Completed)
                .Then(c => metrics.Finished(c.Saga)),
            When(WorkFailed)
                .Then(c => Fail(c.Saga, c.Message.Error, time))
                .TransitionTo(Failed)
                .Then(c => metrics.Finished(c.Saga)),
            When(GovernanceChunkFaulted)
                .Then(c => Fail(c.Saga, FaultText(c.Message), time))
                .TransitionTo(Failed)
                .Then(c => metrics.Finished(c.Saga)),
            When(CancelRequested)
                .Then(c =>
                {
                    c.Saga.CompletedAt = time.GetUtcNow();
                    c.Saga.Metadata["cancelledBy"] = c.Message.CancelledBy;
                })
                .TransitionTo(Cancelled)
                .Then(c => metrics.Finished(c.Saga))
                .Publish(c => new BackfillCancelled(c.Saga.CorrelationId, c.Saga.Type))
                .Respond(c => new CancelBackfillResult(c.Saga.CorrelationId, true, BackfillStatus.Cancelled)));

        During(Completed, Failed, Cancelled,
            Ignore(Progressed),
            Ignore(WorkCompleted),
            Ignore(WorkFailed),
            Ignore(GovernanceChunkFaulted),
            When(Requested)
                .Respond(c => new BackfillAccepted(c.Saga.CorrelationId)),
            When(CancelRequested)
                .Respond(c => new CancelBackfillResult(c.Saga.CorrelationId, false, c.Saga.Status)));
    }

    public State Running { get; private set; } = null!;

    public State Completed { get; private set; } = null!;

    public State Failed { get; private set; } = null!;

    public State Cancelled { get; private set; } = null!;

    public Event<BackfillRequested> Requested { get; private set; } = null!;

    public Event<BackfillProgressed> Progressed { get; private set; } = null!;

    public Event<BackfillWorkCompleted> WorkCompleted { get; private set; } = null!;

    public Event<BackfillWorkFailed> WorkFailed { get; private set; } = null!;

    public Event<CancelBackfill> CancelRequested { get; private set; } = null!;

    public Event<Fault<SyncGovernanceChunk>> GovernanceChunkFaulted { get; private set; } = null!;

    /// <summary>The operation types that have a worker; the API refuses the others.</summary>
    public static IReadOnlySet<string> Available { get; } = new HashSet<string> { BackfillOperationType.GovernanceSync };

    /// <summary>Sends the first unit of work of the operation's type.</summary>
    private static Task StartWorkAsync(BehaviorContext<BackfillOperation> context, BackfillOperation operation) => operation.Type switch
    {
        BackfillOperationType.GovernanceSync =>
            context.Publish(new SyncGovernanceChunk(operation.CorrelationId, GovernanceCollections.Node, Cursor: null, Written: 0, Invalid: 0)),
        _ => throw new InvalidOperationException($"No worker handles '{operation.Type}' operations"),
    };

    private static void Fail(BackfillOperation operation, string error, TimeProvider time)
    {
        operation.Error = error;
        operation.CompletedAt = time.GetUtcNow();
    }

    private static string FaultText<T>(Fault<T> fault) =>
        fault.Exceptions.FirstOrDefault() is { } e ? $"{e.ExceptionType}: {e.Message}" : "the worker's message faulted";
}
