using Chive.Contracts.PdsScan;
using Chive.IndexWorker.Indexing;
using Chive.Messaging;
using Chive.Storage;
using Chive.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Chive.Tests.Operations;

/// <summary>
/// The chain ledger's rules in PostgreSQL (a unit runs only at its chain's position; a duplicate never forks the
/// chain; the delivery that moved a chain on may send its successor again) and the pruning of old bookkeeping.
/// </summary>
public sealed class OperationLedgerTests : IAsyncLifetime
{
    private NpgsqlDataSource _db = null!;

    public async Task InitializeAsync()
    {
        _db = NpgsqlDataSource.Create(TestServers.PostgresConnectionString(await TestServers.CreateDatabaseAsync("chive_ledger")));
        await new DatabaseMigrator(_db, NullLogger<DatabaseMigrator>.Instance).MigrateAsync(CancellationToken.None);
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private static ScanPdsChunk Chunk(Guid operation, int sequence) =>
        new(operation, Lane: 0, Lanes: 1, ["https://pds.example"], Did: null, Cursor: null, sequence, ScanTotals.Zero, PdsProgress.Zero);

    [Fact]
    public async Task A_unit_runs_at_its_position_and_a_copy_that_loses_the_race_sends_nothing()
    {
        var chains = new OperationChains(_db);
        var op = Guid.NewGuid();
        var (first, copy) = (Guid.NewGuid(), Guid.NewGuid());

        Assert.True(await chains.MayRunAsync(Chunk(op, 0), first, default));
        Assert.True(await chains.MayRunAsync(Chunk(op, 0), copy, default));   // both copies may start...
        Assert.True(await chains.AdvanceAsync(Chunk(op, 0), first, default));
        Assert.False(await chains.AdvanceAsync(Chunk(op, 0), copy, default)); // ...one moves the chain on, the other stops
        Assert.False(await chains.MayRunAsync(Chunk(op, 0), copy, default));  // and a later copy does not even start
        Assert.True(await chains.MayRunAsync(Chunk(op, 1), Guid.NewGuid(), default));
    }

    [Fact]
    public async Task The_delivery_that_moved_the_chain_on_may_run_again_and_send_its_successor_again()
    {
        var chains = new OperationChains(_db);
        var op = Guid.NewGuid();
        var delivery = Guid.NewGuid();
        Assert.True(await chains.AdvanceAsync(Chunk(op, 0), delivery, default));

        // Redelivered after a crash between moving the chain on and sending the successor.
        Assert.True(await chains.MayRunAsync(Chunk(op, 0), delivery, default));
        Assert.True(await chains.AdvanceAsync(Chunk(op, 0), delivery, default));

        // Once the successor ran and moved on, the old delivery is a stale duplicate.
        Assert.True(await chains.AdvanceAsync(Chunk(op, 1), Guid.NewGuid(), default));
        Assert.False(await chains.MayRunAsync(Chunk(op, 0), delivery, default));
    }

    [Fact]
    public async Task Of_twenty_concurrent_copies_exactly_one_moves_the_chain_on()
    {
        var chains = new OperationChains(_db);
        var op = Guid.NewGuid();
        await chains.AdvanceAsync(Chunk(op, 0), Guid.NewGuid(), default);

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => chains.AdvanceAsync(Chunk(op, 1), Guid.NewGuid(), default)));

        Assert.Equal(1, results.Count(r => r));
    }

    [Fact]
    public async Task Chains_are_per_operation_and_per_chain()
    {
        var chains = new OperationChains(_db);
        var (a, b) = (Guid.NewGuid(), Guid.NewGuid());
        await chains.AdvanceAsync(Chunk(a, 0), Guid.NewGuid(), default);

        Assert.True(await chains.MayRunAsync(Chunk(b, 0), Guid.NewGuid(), default));
        Assert.True(await chains.MayRunAsync(Chunk(a, 0) with { Lane = 1 }, Guid.NewGuid(), default));
        Assert.True(await chains.MayRunAsync(new StartPdsScan(a, null), Guid.NewGuid(), default));
    }

    [Fact]
    public async Task Pruning_deletes_only_the_bookkeeping_older_than_the_retention()
    {
        var (old, recent) = (Guid.NewGuid(), Guid.NewGuid());
        await ExecuteAsync("""
            INSERT INTO operation_batches (operation_id, batch_id, indexed_at) SELECT @old, gen_random_uuid(), now() - interval '8 days' FROM generate_series(1, 12000);
            INSERT INTO operation_batches (operation_id, batch_id) VALUES (@recent, gen_random_uuid());
            INSERT INTO operation_totals (operation_id, updated_at) VALUES (@old, now() - interval '8 days'), (@recent, now());
            INSERT INTO operation_chains (operation_id, chain, position, updated_at) VALUES (@old, 'start', 1, now() - interval '8 days'), (@recent, 'start', 1, now());
            """, old, recent);
        var pruning = new LedgerPruning(_db, Options.Create(new LedgerOptions { Retention = TimeSpan.FromDays(7) }), TimeProvider.System, NullLogger<LedgerPruning>.Instance);

        Assert.Equal(12_002L, await pruning.PruneOnceAsync(default));

        foreach (var table in new[] { "operation_batches", "operation_totals", "operation_chains" })
        {
            Assert.Equal(0L, await CountAsync($"SELECT count(*) FROM {table} WHERE operation_id = @op", old));
            Assert.Equal(1L, await CountAsync($"SELECT count(*) FROM {table} WHERE operation_id = @op", recent));
        }
    }

    private async Task ExecuteAsync(string sql, Guid old, Guid recent)
    {
        await using var command = _db.CreateCommand(sql);
        command.Parameters.AddWithValue("old", old);
        command.Parameters.AddWithValue("recent", recent);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<long> CountAsync(string sql, Guid op)
    {
        await using var command = _db.CreateCommand(sql);
        command.Parameters.AddWithValue("op", op);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
