using Chive.AtProto.Identifiers;
using Chive.AtProto.Identity;
using Chive.Storage;
using Chive.Testing;
using Chive.Testing.Doubles;
using Chive.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Chive.Tests.ScaleOut;

/// <summary>
/// DID documents shared through PostgreSQL (<see cref="PostgresDidDocumentCache"/>): three resolvers, each with its own
/// connection pool and its own in-process cache — three worker replicas, as far as the PLC directory (the real one,
/// behind a counting proxy) can tell — ask it for a document once between them; one that forgot the document asks
/// the directory again and replaces what the others read; a shared cache that is down or holds something unusable
/// leaves each resolving from the directory.
/// </summary>
[Collection(AtprotoNetworkCollection.Name)]
public sealed class SharedDidDocumentTests(AtprotoNetworkFixture fixture) : IAsyncLifetime
{
    private readonly List<NpgsqlDataSource> _pools = [];
    private HttpFaultProxy _plc = null!;
    private string _database = null!;
    private Did _did = null!;

    public async Task InitializeAsync()
    {
        _plc = await HttpFaultProxy.StartNewAsync(fixture.Network.PlcUrl);
        _database = await TestServers.CreateDatabaseAsync("chive_did_documents");
        await using var db = NpgsqlDataSource.Create(TestServers.PostgresConnectionString(_database));
        await new DatabaseMigrator(db, NullLogger<DatabaseMigrator>.Instance).MigrateAsync(CancellationToken.None);
        var account = await fixture.Network.SeedAsync(0, new SeedAccount($"didc{Guid.NewGuid():N}"[..13] + ".test", []));
        _did = Did.Parse(account.Single().Did);
    }

    public async Task DisposeAsync()
    {
        await _plc.DisposeAsync();
        foreach (var pool in _pools)
        {
            await pool.DisposeAsync();
        }
    }

    private DidResolver Replica(Action<IdentityOptions>? configure = null, string? connectionString = null)
    {
        var pool = NpgsqlDataSource.Create(connectionString ?? TestServers.PostgresConnectionString(_database));
        _pools.Add(pool);
        return TestClients.Resolver(_plc.BaseAddress, configure, shared: new PostgresDidDocumentCache(pool));
    }

    private static string Describe(ResolvedIdentity identity) => $"{identity.Did} {identity.PdsEndpoint} {identity.Handle} {identity.SigningKey?.Multibase}";

    [Fact]
    public async Task Three_replicas_ask_the_directory_once_and_one_that_forgot_the_document_asks_again_and_replaces_it()
    {
        var (a, b, c) = (Replica(), Replica(), Replica());

        var first = Describe(await a.ResolveAsync(_did));
        var fromShared = await b.ResolveAsync(_did);
        Assert.Equal(first, Describe(fromShared));
        Assert.NotNull(fromShared.SigningKey); // the signing key came through the shared cache too
        Assert.Equal(first, Describe(await c.ResolveAsync(_did)));
        Assert.Equal(1, _plc.Requests);

        var stored = await FetchedAtAsync();
        b.Invalidate(_did); // as after a signature that did not verify, or a PDS saying the repo moved
        Assert.Equal(first, Describe(await b.ResolveAsync(_did)));
        Assert.Equal(2, _plc.Requests); // from the directory, not from the shared cache
        Assert.True(await FetchedAtAsync() > stored); // and stored for the others
        await a.ResolveAsync(_did);
        Assert.Equal(2, _plc.Requests); // a still holds it in its own cache
    }

    [Fact]
    public async Task A_forgotten_document_is_never_read_back_from_the_shared_cache_until_its_source_answers_and_each_reader_keeps_its_own_lifetime()
    {
        var a = Replica();
        var b = Replica(o => o.FailureCacheTtl = TimeSpan.Zero);
        await a.ResolveAsync(_did);
        await b.ResolveAsync(_did);
        Assert.Equal(1, _plc.Requests);

        b.Invalidate(_did);
        _plc.Always = new HttpFault.Status(404, "NotFound"); // the directory fails the fetch that replaces it
        await Assert.ThrowsAsync<DidResolutionException>(() => b.ResolveAsync(_did));
        _plc.Always = null;
        await b.ResolveAsync(_did);
        Assert.Equal(3, _plc.Requests); // from the directory again, not the stale shared row

        // A reader whose own lifetime is shorter than the row's age fetches the document itself.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        await Replica(o => o.CacheTtl = TimeSpan.FromSeconds(1)).ResolveAsync(_did);
        Assert.Equal(4, _plc.Requests);
    }

    [Fact]
    public async Task A_shared_cache_that_holds_something_unusable_or_is_down_leaves_each_replica_resolving_from_the_directory()
    {
        await Replica().ResolveAsync(_did);
        await using (var db = NpgsqlDataSource.Create(TestServers.PostgresConnectionString(_database)))
        await using (var tamper = db.CreateCommand("UPDATE did_documents SET document = '{\"id\": ' WHERE did = @did"))
        {
            tamper.Parameters.AddWithValue("did", _did.Value);
            Assert.Equal(1, await tamper.ExecuteNonQueryAsync());
        }

        var identity = await Replica().ResolveAsync(_did);
        Assert.Equal(2, _plc.Requests);
        await using (var db = NpgsqlDataSource.Create(TestServers.PostgresConnectionString(_database)))
        await using (var read = db.CreateCommand("SELECT document FROM did_documents WHERE did = @did"))
        {
            read.Parameters.AddWithValue("did", _did.Value);
            Assert.Contains(_did.Value, (string)(await read.ExecuteScalarAsync())!, StringComparison.Ordinal); // replaced by the fresh one
        }

        // Nothing listens on port 1: every lookup fails at once, and the replica resolves alone.
        var alone = Replica(connectionString: "Host=127.0.0.1;Port=1;Username=chive;Database=chive;Timeout=2");
        Assert.Equal(Describe(identity), Describe(await alone.ResolveAsync(_did)));
        Assert.Equal(3, _plc.Requests);
    }

    [Fact]
    public async Task A_database_with_the_first_version_of_the_table_is_migrated_and_its_rows_are_fetched_again()
    {
        // As the release before V13 left it: V12's did_documents with a row valid for an hour by its writer's expiry.
        var name = await TestServers.CreateDatabaseAsync("chive_did_documents_v12");
        await using var db = NpgsqlDataSource.Create(TestServers.PostgresConnectionString(name));
        var migrator = new DatabaseMigrator(db, NullLogger<DatabaseMigrator>.Instance);
        await migrator.MigrateAsync(CancellationToken.None, upTo: "12.0");
        await using (var old = db.CreateCommand("INSERT INTO did_documents (did, document, expires_at) VALUES (@did, '{}', now() + interval '1 hour')"))
        {
            old.Parameters.AddWithValue("did", _did.Value);
            await old.ExecuteNonQueryAsync();
        }

        Assert.Equal(1, await migrator.MigrateAsync(CancellationToken.None));

        var pool = NpgsqlDataSource.Create(TestServers.PostgresConnectionString(name));
        _pools.Add(pool);
        var resolver = TestClients.Resolver(_plc.BaseAddress, shared: new PostgresDidDocumentCache(pool));
        Assert.NotNull((await resolver.ResolveAsync(_did)).SigningKey); // from the directory: the old row was dropped, not read
        Assert.Equal(1, _plc.Requests);
        await using var read = db.CreateCommand("SELECT count(*) FROM did_documents WHERE did = @did AND fetched_at > now() - interval '1 minute'");
        read.Parameters.AddWithValue("did", _did.Value);
        Assert.Equal(1L, await read.ExecuteScalarAsync()); // and shared again, with when it was fetched
    }

    private async Task<DateTime> FetchedAtAsync()
    {
        await using var db = NpgsqlDataSource.Create(TestServers.PostgresConnectionString(_database));
        await using var command = db.CreateCommand("SELECT fetched_at FROM did_documents WHERE did = @did");
        command.Parameters.AddWithValue("did", _did.Value);
        return (DateTime)(await command.ExecuteScalarAsync())!;
    }
}
