using MassTransit;
using MassTransit.Context;
using MassTransit.Saga;

namespace Chive.AdminApi.Operations;

/// <summary>
/// MassTransit's saga repository contract over <see cref="OperationStore"/>, so the saga instance and the operation
/// record the API lists are one and the same Redis hash. Optimistic concurrency: an update whose version was overtaken throws
/// <see cref="ConcurrencyException"/>, and the saga endpoint's retry policy runs the message again on fresh state.
/// The metrics of a transition are counted here, after its write is stored, never in the machine (which may run a
/// message twice).
/// </summary>
public sealed class OperationSagaRepositoryContextFactory(
    OperationStore store, ISagaConsumeContextFactory<OperationStore, BackfillOperation> factory, BackfillMetrics metrics)
    : ISagaRepositoryContextFactory<BackfillOperation>
{
    public Task Send<T>(ConsumeContext<T> context, IPipe<SagaRepositoryContext<BackfillOperation, T>> next)
        where T : class =>
        next.Send(new OperationSagaRepositoryContext<T>(store, context, factory, metrics));

    public Task SendQuery<T>(ConsumeContext<T> context, ISagaQuery<BackfillOperation> query, IPipe<SagaRepositoryQueryContext<BackfillOperation, T>> next)
        where T : class =>
        throw new NotSupportedException("Operations are correlated by id only; the operation store does not run saga queries.");

    public void Probe(ProbeContext context) => context.Add("persistence", "redis (Chive operation store)");
}

/// <summary>Creates the consume context the state machine runs in; persistence is the repository context's job.</summary>
public sealed class OperationSagaConsumeContextFactory : ISagaConsumeContextFactory<OperationStore, BackfillOperation>
{
    public Task<SagaConsumeContext<BackfillOperation, T>> CreateSagaConsumeContext<T>(
        OperationStore context, ConsumeContext<T> consumeContext, BackfillOperation instance, SagaConsumeContextMode mode)
        where T : class =>
        Task.FromResult<SagaConsumeContext<BackfillOperation, T>>(new DefaultSagaConsumeContext<BackfillOperation, T>(consumeContext, instance));
}

internal sealed class OperationSagaRepositoryContext<TMessage> : ConsumeContextScope<TMessage>, SagaRepositoryContext<BackfillOperation, TMessage>
    where TMessage : class
{
    private readonly OperationStore _store;
    private readonly ConsumeContext<TMessage> _context;
    private readonly ISagaConsumeContextFactory<OperationStore, BackfillOperation> _factory;
    private readonly BackfillMetrics _metrics;

    /// <summary>The state the instance had when this message loaded it (null: not loaded, a new one).</summary>
    private string? _loadedState;

    public OperationSagaRepositoryContext(
        OperationStore store, ConsumeContext<TMessage> context, ISagaConsumeContextFactory<OperationStore, BackfillOperation> factory, BackfillMetrics metrics)
        : base(context)
    {
        _store = store;
        _context = context;
        _factory = factory;
        _metrics = metrics;
    }

    public Task<SagaConsumeContext<BackfillOperation, TMessage>> Add(BackfillOperation instance) =>
        _factory.CreateSagaConsumeContext(_store, _context, instance, SagaConsumeContextMode.Add);

    public async Task<SagaConsumeContext<BackfillOperation, TMessage>> Insert(BackfillOperation instance)
    {
        if (!await _store.InsertAsync(instance))
        {
            return default!;
        }

        return await _factory.CreateSagaConsumeContext(_store, _context, instance, SagaConsumeContextMode.Insert);
    }

    public async Task<SagaConsumeContext<BackfillOperation, TMessage>> Load(Guid correlationId)
    {
        var instance = await _store.GetAsync(correlationId);
        _loadedState = instance?.CurrentState;
        return instance is null
            ? default!
            : await _factory.CreateSagaConsumeContext(_store, _context, instance, SagaConsumeContextMode.Load);
    }

    public async Task Save(SagaConsumeContext<BackfillOperation> context)
    {
        context.Saga.Version = 1;
        if (!await _store.InsertAsync(context.Saga))
        {
            throw new ConcurrencyException("An operation with this id was stored concurrently", typeof(BackfillOperation), context.Saga.CorrelationId);
        }

        _metrics.Committed(null, context.Saga);
    }

    public async Task Update(SagaConsumeContext<BackfillOperation> context)
    {
        var expected = context.Saga.Version;
        context.Saga.Version++;
        if (!await _store.TryUpdateAsync(context.Saga, expected))
        {
            throw new ConcurrencyException($"Operation version {expected} was overtaken", typeof(BackfillOperation), context.Saga.CorrelationId);
        }

        _metrics.Committed(_loadedState, context.Saga);
        _loadedState = context.Saga.CurrentState;
    }

    // Called only for finalized instances; the machine never finalizes (finished operations stay for their retention).
    public Task Delete(SagaConsumeContext<BackfillOperation> context) => _store.DeleteAsync(context.Saga.CorrelationId);

    public Task Discard(SagaConsumeContext<BackfillOperation> context) => Task.CompletedTask;

    public Task Undo(SagaConsumeContext<BackfillOperation> context) => Task.CompletedTask;

    public Task<SagaConsumeContext<BackfillOperation, T>> CreateSagaConsumeContext<T>(ConsumeContext<T> consumeContext, BackfillOperation instance, SagaConsumeContextMode mode)
        where T : class =>
        _factory.CreateSagaConsumeContext(_store, consumeContext, instance, mode);
}
