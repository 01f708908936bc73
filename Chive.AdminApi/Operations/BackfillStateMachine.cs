using Chive.AdminApi.OperationTypes;
using Chive.Contracts.Indexing;
using Chive.Contracts.Operations;
using Chive.Contracts.PdsScan;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Chive.AdminApi.Operations;

/// <summary>
/// The lifecycle of every backfill operation, and the only writer of its status. Workers report facts; this decides.
/// Running → Completed | Failed | Cancelled, and a finished operation never changes again: late progress, late
/// completion and late failures are ignored. Progress and the record count never go backwards, and progress reaches
/// 100 only on completion. The machine never finalizes: finished operations stay (with a TTL) for the history.
/// It names no work message: each type's first unit is sent by its <see cref="IOperationType"/>, and a work message
/// that exhausts its retries reaches it as <see cref="BackfillWorkFailed"/> (<c>Chive.Messaging.OperationWorkFaultConsumer</c>).
/// </summary>
public sealed class BackfillStateMachine : MassTransitStateMachine<BackfillOperation>
{
    public BackfillStateMachine(OperationTypeRegistry types, IOptions<OperationsOptions> options, TimeProvider time)
    {
        InstanceState(x => x.CurrentState);

        Event(() => Requested, e => e.CorrelateById(m => m.Message.OperationId));

        // Facts about an operation; one about an operation that does not exist (expired, or never was) is dropped.
        void Fact<T>(System.Linq.Expressions.Expression<Func<Event<T>>> fact, Func<ConsumeContext<T>, Guid> operationId) where T : class =>
            Event(fact, e => { e.CorrelateById(operationId); e.OnMissingInstance(m => m.Discard()); });

        Fact(() => Progressed, m => m.Message.OperationId);
        Fact(() => WorkCompleted, m => m.Message.OperationId);
        Fact(() => WorkFailed, m => m.Message.OperationId);
        Fact(() => LaneProgressed, m => m.Message.OperationId);
        Fact(() => Indexed, m => m.Message.OperationId);
        Fact(() => Watched, m => m.Message.OperationId);

        Event(() => CancelRequested, e =>
        {
            e.CorrelateById(m => m.Message.OperationId);
            e.OnMissingInstance(m => m.ExecuteAsync(c => c.RespondAsync(new CancelBackfillResult(c.Message.OperationId, false, BackfillStatus.NotFound))));
        });

        // A scan completes on whichever fact comes last: its lanes' end, or the last batch indexed.
        EventActivityBinder<BackfillOperation, T> CompleteScanWhenDone<T>(EventActivityBinder<BackfillOperation, T> binder) where T : class =>
            binder.If(c => ScanWork.IsDone(c.Saga), done => done
                .Then(c => ScanWork.Complete(c.Saga, time, types.Get(c.Saga.Type).DescribeScan))
                .TransitionTo(Completed));

        Initially(
            When(Requested)
                .Then(c =>
                {
                    var m = c.Message;
                    c.Saga.Type = m.Type;
                    c.Saga.Scope = m.Scope;
                    c.Saga.StartedAt = m.RequestedAt;
                    c.Saga.Metadata = new Dictionary<string, string>(m.Metadata) { [BackfillOperation.StartedByKey] = m.StartedBy };
                })
                .TransitionTo(Running)
                .Then(c => c.Saga.StartSentAt = time.GetUtcNow())
                .ThenAsync(c => types.Get(c.Saga.Type).StartAsync(c, c.Saga))
                .Respond(c => new BackfillAccepted(c.Saga.CorrelationId)));

        During(Running,
            When(Requested)
                .Respond(c => new BackfillAccepted(c.Saga.CorrelationId)),
            When(Progressed)
                .Then(c =>
                {
                    c.Saga.LastHeardAt = time.GetUtcNow();
                    c.Saga.Progress = Math.Max(c.Saga.Progress, Math.Clamp(c.Message.Progress, 0, 99));
                    if (c.Message.RecordsProcessed >= c.Saga.RecordsProcessed)
                    {
                        // Live counts of the report that is at least as far as any before it (never older ones).
                        foreach (var (key, value) in c.Message.Details ?? new Dictionary<string, string>())
                        {
                            if (!BackfillOperation.IsTriggerKey(key))
                            {
                                c.Saga.Metadata[key] = value;
                            }
                        }
                    }

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
                        // The final counts replace the live ones; what the trigger recorded stays.
                        if (!BackfillOperation.IsTriggerKey(key))
                        {
                            c.Saga.Metadata[key] = value;
                        }
                    }
                })
                .TransitionTo(Completed),
            When(WorkFailed)
                .Then(c => Fail(c.Saga, c.Message.Error, time))
                .TransitionTo(Failed),
            CompleteScanWhenDone(When(LaneProgressed).Then(c => ScanWork.RecordLane(c.Saga, c.Message, types.Get(c.Saga.Type).DescribeScan)).Then(c => c.Saga.LastHeardAt = time.GetUtcNow())),
            CompleteScanWhenDone(When(Indexed).Then(c => ScanWork.RecordIndexed(c.Saga, c.Message, types.Get(c.Saga.Type).DescribeScan)).Then(c => c.Saga.LastHeardAt = time.GetUtcNow())),
            When(Watched)
                .If(c => Watchdog.ShouldResendStart(c.Saga, options.Value, time.GetUtcNow()), resend => resend
                    .Then(c =>
                    {
                        c.Saga.StartResends++;
                        c.Saga.StartSentAt = time.GetUtcNow();
                        c.Saga.Metadata[BackfillOperation.StartResendsKey] = c.Saga.StartResends.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    })
                    .ThenAsync(c => types.Get(c.Saga.Type).StartAsync(c, c.Saga)))
                .If(c => Watchdog.IsStalled(c.Saga, options.Value, time.GetUtcNow()), stalled => stalled
                    .Then(c => Fail(c.Saga, Watchdog.StallError(c.Saga, options.Value), time))
                    .TransitionTo(Failed)),
            When(CancelRequested)
                .Then(c =>
                {
                    c.Saga.CompletedAt = time.GetUtcNow();
                    c.Saga.Metadata[BackfillOperation.CancelledByKey] = c.Message.CancelledBy;
                })
                .TransitionTo(Cancelled)
                .Publish(c => new BackfillCancelled(c.Saga.CorrelationId, c.Saga.Type))
                .Respond(c => new CancelBackfillResult(c.Saga.CorrelationId, true, BackfillStatus.Cancelled)));

        During(Completed, Failed, Cancelled,
            Ignore(Progressed),
            Ignore(WorkCompleted),
            Ignore(WorkFailed),
            Ignore(LaneProgressed),
            Ignore(Indexed),
            Ignore(Watched),
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

    public Event<ScanLaneProgressed> LaneProgressed { get; private set; } = null!;

    public Event<RecordsIndexed> Indexed { get; private set; } = null!;

    public Event<WatchOperation> Watched { get; private set; } = null!;

    private static void Fail(BackfillOperation operation, string error, TimeProvider time)
    {
        operation.Error = error;
        operation.CompletedAt = time.GetUtcNow();
    }
}
