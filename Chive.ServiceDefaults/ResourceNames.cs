namespace Chive.ServiceDefaults;

/// <summary>
/// Names of the AppHost's resources. A resource name is also the connection-string key a service reads
/// (<c>ConnectionStrings:&lt;name&gt;</c>), so AppHost and services share this one file (the AppHost links it)
/// and the string keys cannot drift apart.
/// </summary>
#if CHIVE_APPHOST
internal static class ResourceNames // the AppHost compiles this file too; internal there, so tests see one type
#else
public static class ResourceNames
#endif
{
    public const string Redis = "redis";
    public const string PostgresServer = "postgres";
    public const string Database = "chivedb";
    public const string RabbitMq = "rabbitmq";
    public const string Elasticsearch = "elasticsearch";
    public const string Grobid = "grobid";

    public const string AdminApi = "admin-api";
    public const string ScanWorker = "scan-worker";
    public const string CitationWorker = "citation-worker";
    public const string IndexWorker = "index-worker";
}
