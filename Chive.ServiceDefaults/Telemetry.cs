namespace Microsoft.Extensions.Hosting;

/// <summary>Names of the ActivitySources and Meters the services export.</summary>
public static class Telemetry
{
    /// <summary>MassTransit's ActivitySource and Meter (publish, send, consume, saga spans and counters).</summary>
    public const string MassTransitName = "MassTransit";

    /// <summary>Chive's own sources and meters are all named <c>Chive.*</c>.</summary>
    public const string ChiveWildcard = "Chive.*";
}
