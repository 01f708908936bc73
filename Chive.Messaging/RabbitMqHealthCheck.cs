using Microsoft.Extensions.Diagnostics.HealthChecks;
using RabbitMQ.Client;

namespace Chive.Messaging;

/// <summary>
/// Is the broker reachable? MassTransit's own bus check reports only on receive endpoints that exist (and the bus
/// endpoint starts lazily), so a service with nothing to consume would stay "healthy" with the broker gone. This
/// check keeps one small AMQP connection of its own and reopens it when it is closed.
/// </summary>
internal sealed class RabbitMqHealthCheck(Uri brokerUri) : IHealthCheck, IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IConnection? _connection;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_connection is { IsOpen: true })
            {
                return HealthCheckResult.Healthy("Connected to RabbitMQ");
            }

            if (_connection is not null)
            {
                await _connection.DisposeAsync();
                _connection = null;
            }

            var factory = new ConnectionFactory
            {
                Uri = brokerUri,
                AutomaticRecoveryEnabled = false,
                RequestedConnectionTimeout = TimeSpan.FromSeconds(3),
                ClientProvidedName = "chive-health",
            };
            _connection = await factory.CreateConnectionAsync(cancellationToken);
            return HealthCheckResult.Healthy("Connected to RabbitMQ");
        }
        catch (Exception ex) when (ex is RabbitMQ.Client.Exceptions.BrokerUnreachableException or IOException or System.Net.Sockets.SocketException or TimeoutException or RabbitMQ.Client.Exceptions.OperationInterruptedException)
        {
            return HealthCheckResult.Unhealthy("RabbitMQ is not reachable", ex);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }

        _gate.Dispose();
    }
}
