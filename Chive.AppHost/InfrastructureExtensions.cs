using Chive.ServiceDefaults;

namespace Chive.AppHost;

/// <summary>The infrastructure containers a developer with Docker gets from <c>dotnet run</c>.</summary>
internal static class InfrastructureExtensions
{
    public static IResourceBuilder<IResourceWithConnectionString> AddChiveRedis(this IDistributedApplicationBuilder builder) =>
        builder.AddRedis(ResourceNames.Redis)
            .WithDataVolume("chive-redis-data")
            // Operations live in Redis: turn on the append-only file so a restart loses at most a second of them.
            // Aspire starts Redis as `/bin/sh -c "redis-server ..."`; extend that command line.
            .WithArgs(context =>
            {
                var index = context.Args.ToList().FindIndex(a => a is string s && s.StartsWith("redis-server", StringComparison.Ordinal));
                if (index < 0)
                {
                    throw new InvalidOperationException("Aspire's Redis command line changed: cannot turn on append-only persistence.");
                }

                context.Args[index] = $"{context.Args[index]} --appendonly yes --appendfsync everysec";
            });

    public static IResourceBuilder<IResourceWithConnectionString> AddChiveDatabase(this IDistributedApplicationBuilder builder) =>
        builder.AddPostgres(ResourceNames.PostgresServer)
            .WithDataVolume("chive-postgres-data")
            .AddDatabase(ResourceNames.Database, databaseName: "chive");

    public static IResourceBuilder<IResourceWithConnectionString> AddChiveRabbitMq(this IDistributedApplicationBuilder builder) =>
        builder.AddRabbitMQ(ResourceNames.RabbitMq)
            .WithDataVolume("chive-rabbitmq-data")
            .WithManagementPlugin();

    /// <summary>Elasticsearch 9, single node, security off for local development, heap capped (setting Elasticsearch:Heap).</summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddElasticsearch(this IDistributedApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection("Elasticsearch");
        var heap = section["Heap"] ?? "512m";
        return builder.AddResource(new HttpServiceResource(ResourceNames.Elasticsearch))
            .WithImage(section["Image"] ?? "docker.elastic.co/elasticsearch/elasticsearch", section["Tag"] ?? "9.1.5")
            .WithHttpEndpoint(targetPort: 9200, name: HttpServiceResource.HttpEndpointName)
            .WithEnvironment("discovery.type", "single-node")
            .WithEnvironment("xpack.security.enabled", "false")
            .WithEnvironment("ES_JAVA_OPTS", $"-Xms{heap} -Xmx{heap}")
            .WithVolume("chive-elasticsearch-data", "/usr/share/elasticsearch/data")
            // Yellow is the best a single node can be (replicas cannot be placed); red answers 503.
            .WithHttpHealthCheck("/_cluster/health?wait_for_status=yellow&timeout=5s", endpointName: HttpServiceResource.HttpEndpointName);
    }

    /// <summary>GROBID (CRF models only: small and CPU-friendly) for reference extraction from PDFs.</summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddGrobid(this IDistributedApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection("Grobid");
        return builder.AddResource(new HttpServiceResource(ResourceNames.Grobid))
            .WithImage(section["Image"] ?? "grobid/grobid", section["Tag"] ?? "0.8.2-crf")
            .WithHttpEndpoint(targetPort: 8070, name: HttpServiceResource.HttpEndpointName)
            .WithHttpHealthCheck("/api/isalive", endpointName: HttpServiceResource.HttpEndpointName);
    }
}

/// <summary>
/// A container that serves HTTP and whose connection string is its base URL (no Aspire hosting package is
/// served for Elasticsearch or GROBID). Services read it as <c>ConnectionStrings:&lt;name&gt;</c>, exactly as in
/// external-services mode.
/// </summary>
internal sealed class HttpServiceResource(string name) : ContainerResource(name), IResourceWithConnectionString
{
    public const string HttpEndpointName = "http";

    private EndpointReference? _httpEndpoint;

    public EndpointReference HttpEndpoint => _httpEndpoint ??= new EndpointReference(this, HttpEndpointName);

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{HttpEndpoint.Property(EndpointProperty.Url)}");
}
