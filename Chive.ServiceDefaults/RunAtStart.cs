namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Runs an action when the host starts, after the services registered before it (OpenTelemetry's, through
/// AddServiceDefaults): a metric recorded then reaches the exporters, where one recorded while services are still being
/// built would be lost.
/// </summary>
public sealed class RunAtStart(Action action) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        action();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
