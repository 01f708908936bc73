using Chive.Contracts.Operations;
using Chive.ServiceDefaults;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Chive.Messaging;

public static class MessagingExtensions
{
    /// <summary>
    /// For workers: cooperative cancellation (<see cref="OperationCancellation"/> fed by this instance's own
    /// cancellation queue) and the <see cref="OperationGate"/> every <see cref="OperationWorkConsumer{T}"/> opens with.
    /// </summary>
    public static void AddOperationWork(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<BackfillCancelledConsumer, BackfillCancelledConsumerDefinition>();
        bus.AddRequestClient<GetOperationStatus>(RequestTimeout.After(s: 30));
        bus.AddScoped<OperationGate>();
        bus.TryAddSingleton<IOperationChains, OperationChains>();
    }

    /// <summary>
    /// For the host of the operation saga: one <see cref="OperationWorkFaultConsumer{T}"/> per work message type (every
    /// <see cref="IOperationWork"/> in the contracts), so a work message that exhausts its retries fails its operation
    /// without the saga knowing any work message type.
    /// </summary>
    public static void AddOperationWorkFaults(this IBusRegistrationConfigurator bus)
    {
        var workTypes = typeof(IOperationWork).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IOperationWork).IsAssignableFrom(t));
        foreach (var type in workTypes)
        {
            bus.AddConsumer(typeof(OperationWorkFaultConsumer<>).MakeGenericType(type), typeof(OperationWorkFaultConsumerDefinition<>).MakeGenericType(type));
        }
    }

    /// <summary>
    /// MassTransit over RabbitMQ (<c>ConnectionStrings:rabbitmq</c>, an <c>amqp://user:pass@host:port/vhost</c> URI).
    /// Endpoint policy (retry, concurrency, partitioning) lives in each consumer's or saga's definition, beside its
    /// class; <paramref name="configure"/> only registers them. MassTransit adds its own bus health check (on its
    /// receive endpoints); <see cref="RabbitMqHealthCheck"/> adds one on the broker itself.
    /// </summary>
    public static IHostApplicationBuilder AddChiveMessaging(
        this IHostApplicationBuilder builder,
        Action<IBusRegistrationConfigurator>? configure = null)
    {
        var brokerUri = new Uri(builder.Configuration.GetRequiredConnectionString(ResourceNames.RabbitMq));

        builder.Services.AddMassTransit(bus =>
        {
            bus.SetKebabCaseEndpointNameFormatter();
            bus.AddConsumeObserver<MessageLagObserver>();
            configure?.Invoke(bus);
            bus.UsingRabbitMq((context, rabbit) =>
            {
                rabbit.Host(brokerUri);
                rabbit.ConfigureEndpoints(context);
            });
        });

        builder.Services.AddSingleton<OperationCancellation>();
        builder.Services.AddSingleton(new RabbitMqHealthCheck(brokerUri));
        builder.Services.AddHealthChecks()
            .AddCheck<RabbitMqHealthCheck>(ResourceNames.RabbitMq, timeout: TimeSpan.FromSeconds(5));
        return builder;
    }
}
