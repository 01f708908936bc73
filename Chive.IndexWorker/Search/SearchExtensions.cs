using Chive.ServiceDefaults;
using Elastic.Clients.Elasticsearch;
using Elastic.Transport;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenTelemetry.Trace;

namespace Chive.IndexWorker.Search;

/// <summary>
/// Elasticsearch (<c>ConnectionStrings:elasticsearch</c>, the base URL, e.g. <c>http://localhost:9200</c>) through
/// Elastic's own client, registered here in one place (no Aspire client integration is used for it).
/// </summary>
internal static class SearchExtensions
{
    public const string ElasticTransportActivitySource = "Elastic.Transport";

    public static IHostApplicationBuilder AddSearch(this IHostApplicationBuilder builder)
    {
        var url = new Uri(builder.Configuration.GetRequiredConnectionString(ResourceNames.Elasticsearch));

        // gzip is the client's default; on the network between a worker and its cluster it costs more CPU than it saves
        // (compressing the bodies was a sixth of the IndexWorker's CPU during a reindex). On for a cluster far away.
        var compression = builder.Configuration.GetValue($"{ResourceNames.Elasticsearch}:HttpCompression", false);
        // A request body is serialized into a memory stream first (to send its length). The client's default stream grows
        // by doubling, and a 250-document _bulk went through new buffers of 128 KiB, 256 KiB, 512 KiB, 1 MiB on the
        // large-object heap each time — 5 to 7 full collections a second during a reindex, and the IndexWorker's peak RSS
        // over 200 MiB. Pooled blocks instead (reused; what is kept is bounded by the bodies in flight at once).
        builder.Services.AddSingleton(_ => new ElasticsearchClient(
            new ElasticsearchClientSettings(url).RequestTimeout(TimeSpan.FromSeconds(30)).EnableHttpCompression(compression)
                .MemoryStreamFactory(RecyclableMemoryStreamFactory.Default)));
        builder.Services.AddHealthChecks()
            .AddCheck<ElasticsearchHealthCheck>(ResourceNames.Elasticsearch, timeout: TimeSpan.FromSeconds(5));
        builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddSource(ElasticTransportActivitySource));
        return builder;
    }
}

/// <summary>Healthy while the cluster answers green or yellow (a single node is yellow); red or no answer is unhealthy.</summary>
internal sealed class ElasticsearchHealthCheck(ElasticsearchClient client) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var health = await client.Cluster.HealthAsync(cancellationToken);
            if (!health.IsValidResponse)
            {
                return HealthCheckResult.Unhealthy(
                    $"Elasticsearch did not answer _cluster/health ({health.ApiCallDetails.HttpStatusCode?.ToString() ?? "no response"})");
            }

            return health.Status == Elastic.Clients.Elasticsearch.HealthStatus.Red
                ? HealthCheckResult.Unhealthy("Elasticsearch cluster status is red")
                : HealthCheckResult.Healthy($"Elasticsearch cluster status is {health.Status.ToString().ToLowerInvariant()}");
        }
        catch (TransportException ex)
        {
            return HealthCheckResult.Unhealthy("Elasticsearch is not reachable", ex);
        }
    }
}
