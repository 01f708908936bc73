namespace Chive.Tests.Infrastructure;

/// <summary>
/// The whole system with the ScanWorker in <c>Sync:Mode = listing</c> (repos read page by page with <c>listRecords</c>,
/// believed as the PDS says): its own AppHost, database and atproto network, so the PDS-scan, DID-sync and poison suites
/// run in both modes, and the hostile-listing suite in the mode it is about.
/// </summary>
public sealed class ListingAppFixture : IAsyncLifetime
{
    public ChiveAppFixture App { get; } = new() { SyncMode = "Listing" };

    public Task InitializeAsync() => App.InitializeAsync();

    public Task DisposeAsync() => App.DisposeAsync();
}

/// <summary>
/// Runs alone, after every other collection: two AppHosts on one RabbitMQ and one Redis would take each other's
/// messages and scopes, so this one starts only once the main fixture is gone.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ListingAppCollection : ICollectionFixture<ListingAppFixture>
{
    public const string Name = "Chive app, listing sync";
}
