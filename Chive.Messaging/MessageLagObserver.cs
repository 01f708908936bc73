using System.Diagnostics.Metrics;
using MassTransit;

namespace Chive.Messaging;

/// <summary>
/// <c>chive_message_lag_seconds{message}</c>: how long each message waited between its publish and the moment a
/// consumer of this service took it — the queue's lag, which grows when the workers cannot keep up (or are down) long
/// before anything fails. On the <c>Chive.Messaging</c> meter of every service that consumes.
/// </summary>
public sealed class MessageLagObserver : IConsumeObserver
{
    public const string MeterName = "Chive.Messaging";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Histogram<double> Lag = Meter.CreateHistogram("chive_message_lag_seconds", unit: "s",
        description: "Time from a message's publish to its consumption by this service (each delivery), by message type.",
        tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900] });

    public Task PreConsume<T>(ConsumeContext<T> context) where T : class
    {
        if (context.SentTime is { } sent)
        {
            Lag.Record(Math.Max(0, (DateTime.UtcNow - sent).TotalSeconds), new KeyValuePair<string, object?>("message", typeof(T).Name));
        }

        return Task.CompletedTask;
    }

    public Task PostConsume<T>(ConsumeContext<T> context) where T : class => Task.CompletedTask;

    public Task ConsumeFault<T>(ConsumeContext<T> context, Exception exception) where T : class => Task.CompletedTask;
}
