namespace Chive.Tests.Infrastructure;

/// <summary>
/// The whole system scaled out: three ScanWorker and two IndexWorker replicas (AppHost settings
/// <c>Replicas:ScanWorker</c>, <c>Replicas:IndexWorker</c>) taking the same queues as competing consumers, with its
/// own database and atproto network, verified sync. Suites that run here must give exactly what they give on one of each.
/// </summary>
public sealed class ReplicaAppFixture : IAsyncLifetime
{
    public const int ScanWorkers = 3;
    public const int IndexWorkers = 2;

    public ChiveAppFixture App { get; } = new()
    {
        Replicas = new() { ["ScanWorker"] = ScanWorkers, ["IndexWorker"] = IndexWorkers },
        // Each unit's start at Debug, with the replica that took it (the log's category): a test kills the one at work.
        ServiceSettings = new()
        {
            ["Logging__LogLevel__Chive.ScanWorker.PdsScan.ScanPdsChunkConsumer"] = "Debug",
            ["Logging__LogLevel__Chive.IndexWorker.Reindex.ReindexChunkConsumer"] = "Debug",
        },
    };

    public Task InitializeAsync() => App.InitializeAsync();

    public Task DisposeAsync() => App.DisposeAsync();
}

/// <summary>Runs alone, like <see cref="ListingAppCollection"/>: two AppHosts on one RabbitMQ would take each other's messages.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ReplicaAppCollection : ICollectionFixture<ReplicaAppFixture>
{
    public const string Name = "Chive app, scaled out";
}
