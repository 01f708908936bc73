using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Chive.ServiceDefaults;
using Chive.Tests.Doubles;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Chive.Tests.Infrastructure;

/// <summary>
/// The whole AppHost, started once per test collection through Aspire.Hosting.Testing in external-services mode,
/// against the real PostgreSQL, Redis and RabbitMQ servers (each behind a <see cref="TcpProxy"/>, so a test can take
/// one down for the services) and the Elasticsearch and GROBID doubles. Each fixture gets a fresh database.
/// </summary>
public sealed class ChiveAppFixture : IAsyncLifetime
{
    public static readonly string[] Services =
        [ResourceNames.AdminApi, ResourceNames.ScanWorker, ResourceNames.CitationWorker, ResourceNames.IndexWorker];

    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);

    public DistributedApplication App { get; private set; } = null!;

    public string DatabaseName { get; private set; } = null!;

    public TcpProxy Postgres { get; private set; } = null!;

    public TcpProxy Redis { get; private set; } = null!;

    public TcpProxy RabbitMq { get; private set; } = null!;

    public TcpProxy Elasticsearch { get; private set; } = null!;

    public TcpProxy Grobid { get; private set; } = null!;

    public ElasticsearchDouble ElasticsearchServer { get; private set; } = null!;

    public GrobidDouble GrobidServer { get; private set; } = null!;

    /// <summary>Where the services' logs of this fixture go.</summary>
    public FileLoggerProvider? LogFile { get; private set; }

    public string DatabaseConnectionString => TestServers.PostgresConnectionString(DatabaseName);

    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(StartTimeout);
        ElasticsearchServer = await ElasticsearchDouble.StartNewAsync();
        GrobidServer = await GrobidDouble.StartNewAsync();
        DatabaseName = await TestServers.CreateDatabaseAsync("chive_app");

        Postgres = Proxy("postgres");
        Redis = Proxy("redis");
        RabbitMq = Proxy("rabbitmq");
        Elasticsearch = TcpProxy.Start("127.0.0.1", ElasticsearchServer.Port);
        Grobid = TcpProxy.Start("127.0.0.1", GrobidServer.Port);

        var rabbit = new UriBuilder(TestServers.RabbitMq) { Host = "127.0.0.1", Port = RabbitMq.Port };
        string[] args =
        [
            "UseExternalServices=true",
            $"ConnectionStrings:{ResourceNames.Redis}=127.0.0.1:{Redis.Port}",
            $"ConnectionStrings:{ResourceNames.Database}={TestServers.PostgresConnectionString(DatabaseName, "127.0.0.1", Postgres.Port)}",
            $"ConnectionStrings:{ResourceNames.RabbitMq}={rabbit.Uri}",
            $"ConnectionStrings:{ResourceNames.Elasticsearch}=http://127.0.0.1:{Elasticsearch.Port}",
            $"ConnectionStrings:{ResourceNames.Grobid}=http://127.0.0.1:{Grobid.Port}",
        ];

        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Chive_AppHost>(args, timeout.Token);
        // The services' output (and the AppHost's) goes to a file under .test-state/logs; the console keeps warnings
        // of the test host itself.
        LogFile = new FileLoggerProvider("app");
        builder.Services.AddLogging(logging => logging
            .ClearProviders()
            .AddProvider(LogFile)
            .SetMinimumLevel(LogLevel.Information));
        App = await builder.BuildAsync(timeout.Token);
        await App.StartAsync(timeout.Token);
        await Task.WhenAll(Services.Select(s => App.ResourceNotifications.WaitForResourceHealthyAsync(s, timeout.Token)));
    }

    public HttpClient CreateClient(string service) => App.CreateHttpClient(service, "http");

    public async Task DisposeAsync()
    {
        if (App is not null)
        {
            await App.DisposeAsync();
        }

        LogFile?.Dispose();
        foreach (var disposable in new IAsyncDisposable?[] { Postgres, Redis, RabbitMq, Elasticsearch, Grobid, ElasticsearchServer, GrobidServer })
        {
            if (disposable is not null)
            {
                await disposable.DisposeAsync();
            }
        }
    }

    private static TcpProxy Proxy(string server)
    {
        var (host, port) = TestServers.Endpoint(server);
        return TcpProxy.Start(host, port);
    }
}

[CollectionDefinition(Name)]
public sealed class ChiveAppCollection : ICollectionFixture<ChiveAppFixture>
{
    public const string Name = "Chive app";
}
