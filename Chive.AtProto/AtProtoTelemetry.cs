using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Chive.AtProto;

/// <summary>
/// The client's ActivitySource and Meter, both named <c>Chive.AtProto</c> (ServiceDefaults exports <c>Chive.*</c>).
/// Metrics carry the method and outcome only: the host is a span tag, never a metric label (thousands of PDSes).
/// </summary>
internal static class AtProtoTelemetry
{
    public const string Name = "Chive.AtProto";

    public static readonly ActivitySource Source = new(Name);

    private static readonly Meter Meter = new(Name);

    /// <summary>Exported to Prometheus as <c>chive_xrpc_requests_total{method,outcome}</c>; one per attempt.</summary>
    public static readonly Counter<long> Requests = Meter.CreateCounter<long>(
        "chive_xrpc_requests_total", description: "XRPC and DID-resolution HTTP attempts, by method and outcome (ok or the error kind)");

    /// <summary>Exported as <c>chive_xrpc_errors_total{method,outcome}</c>; one per call that failed after its retries.</summary>
    public static readonly Counter<long> Errors = Meter.CreateCounter<long>(
        "chive_xrpc_errors_total", description: "XRPC calls that failed after retries, by method and error kind");

    public static readonly Histogram<double> Duration = Meter.CreateHistogram<double>(
        "chive_xrpc_duration_seconds", unit: "s", description: "Duration of XRPC calls including retries and politeness waits");
}
