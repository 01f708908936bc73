using Chive.Contracts.Operations;
using MassTransit;

namespace Chive.Messaging;

/// <summary>
/// The one failure path of every work message: a <see cref="Fault{T}"/> (the message exhausted its retries and went
/// to its error queue) becomes <see cref="BackfillWorkFailed"/> with the exception's text, which the saga turns into the
/// operation's failure (and ignores once the operation has finished).
/// </summary>
public sealed class OperationWorkFaultConsumer<T> : IConsumer<Fault<T>>
    where T : class, IOperationWork
{
    public Task Consume(ConsumeContext<Fault<T>> context) =>
        context.Publish(new BackfillWorkFailed(context.Message.Message.OperationId, Describe(context.Message)));

    private static string Describe(Fault fault) =>
        fault.Exceptions.FirstOrDefault() is { } e ? $"{e.ExceptionType}: {e.Message}" : "the worker's message faulted";
}

/// <summary>Every work message's fault consumer shares one queue.</summary>
public sealed class OperationWorkFaultConsumerDefinition<T> : ConsumerDefinition<OperationWorkFaultConsumer<T>>
    where T : class, IOperationWork
{
    public const string QueueName = "operation-work-faults";

    public OperationWorkFaultConsumerDefinition()
    {
        EndpointName = QueueName;
        ConcurrentMessageLimit = 8;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<OperationWorkFaultConsumer<T>> consumerConfigurator, IRegistrationContext context) =>
        consumerConfigurator.UseMessageRetry(r => r.Intervals(500, 2000, 5000)); // per consumer: the queue is shared
}
