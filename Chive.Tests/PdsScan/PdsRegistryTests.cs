using Chive.ScanWorker.PdsScan;
using Chive.Storage;
using Chive.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Chive.Tests.PdsScan;

/// <summary>The PDS registry against the real PostgreSQL (a fresh, migrated database per test).</summary>
public sealed class PdsRegistryTests : IAsyncLifetime
{
    private NpgsqlDataSource _db = null!;
    private readonly PdsRegistryOptions _options = new();

    public async Task InitializeAsync()
    {
        var name = await TestServers.CreateDatabaseAsync("chive_registry");
        _db = NpgsqlDataSource.Create(TestServers.PostgresConnectionString(name));
        await new DatabaseMigrator(_db, NullLogger<DatabaseMigrator>.Instance).MigrateAsync(CancellationToken.None);
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private PdsRegistry Registry => new(_db, Options.Create(_options));

    [Fact]
    public async Task Urls_are_normalised_and_registered_once()
    {
        Assert.True(await Registry.RegisterAsync(new Uri("https://PDS.Example.test/"), DiscoverySource.DidMention));
        Assert.False(await Registry.RegisterAsync(new Uri("https://pds.example.test"), DiscoverySource.PlcEnumeration));

        Assert.Equal(1L, await ScalarAsync<long>("SELECT count(*) FROM pds_registry"));
        Assert.Equal("did_mention", await ScalarAsync<string>("SELECT discovery_source FROM pds_registry WHERE pds_url = 'https://pds.example.test'"));
        Assert.Throws<ArgumentException>(() => Chive.AtProto.Net.ServiceOrigin.Normalize(new Uri("https://pds.example.test/xrpc")));
        Assert.Throws<ArgumentException>(() => Chive.AtProto.Net.ServiceOrigin.Normalize(new Uri("ftp://pds.example.test")));
    }

    [Fact]
    public async Task Two_concurrent_claims_never_take_the_same_PDS_and_a_lapsed_lease_is_claimed_again()
    {
        for (var i = 0; i < 10; i++)
        {
            await Registry.RegisterAsync(new Uri($"https://pds{i}.example.test"), DiscoverySource.PlcEnumeration);
        }

        var claims = await Task.WhenAll(Registry.ClaimDueAsync("a", 6), Registry.ClaimDueAsync("b", 6));

        Assert.Empty(claims[0].Intersect(claims[1]));
        Assert.Equal(10, claims[0].Count + claims[1].Count);
        Assert.Empty(await Registry.ClaimDueAsync("c", 10));

        await ExecuteAsync("UPDATE pds_registry SET lease_expires_at = now() - interval '1 second' WHERE lease_owner = 'a'");
        Assert.Equal(claims[0].Order(), (await Registry.ClaimDueAsync("c", 10)).Order());
    }

    [Fact]
    public async Task A_scan_with_records_is_active_for_24_hours_and_one_without_is_probed_again_after_168()
    {
        var withRecords = new Uri("https://busy.example.test");
        var empty = new Uri("https://quiet.example.test");
        await Registry.RegisterAsync(withRecords, DiscoverySource.PlcEnumeration);
        await Registry.RegisterAsync(empty, DiscoverySource.PlcEnumeration);
        await Registry.ClaimDueAsync("w", 10);

        await Registry.CompleteAsync(withRecords, "w", 42);
        await Registry.CompleteAsync(empty, "w", 0);

        Assert.Equal(("active", 42, 24.0), await StateAsync("https://busy.example.test"));
        Assert.Equal(("no_chive_records", 0, 168.0), await StateAsync("https://quiet.example.test"));
        Assert.Empty(await Registry.ClaimDueAsync("w", 10));

        await ExecuteAsync("UPDATE pds_registry SET next_scan_at = now() - interval '1 minute' WHERE pds_url = 'https://quiet.example.test'");
        Assert.Equal(["https://quiet.example.test"], await Registry.ClaimDueAsync("w", 10));
    }

    [Fact]
    public async Task Failures_back_off_1_2_4_8_hours_and_the_fifth_marks_the_PDS_unreachable()
    {
        var url = new Uri("https://down.example.test");
        await Registry.RegisterAsync(url, DiscoverySource.PlcEnumeration);
        var waits = new List<double>();
        for (var i = 0; i < 5; i++)
        {
            await ExecuteAsync("UPDATE pds_registry SET next_scan_at = NULL");
            Assert.Single(await Registry.ClaimDueAsync("w", 10));
            await Registry.FailAsync(url, "w", "connection refused");
            waits.Add(await ScalarAsync<double>("SELECT round(extract(epoch FROM next_scan_at - now()) / 3600) FROM pds_registry"));
        }

        Assert.Equal([1.0, 2.0, 4.0, 8.0, 16.0], waits);
        Assert.Equal("unreachable", await ScalarAsync<string>("SELECT status FROM pds_registry"));
        Assert.Equal("connection refused", await ScalarAsync<string>("SELECT last_error FROM pds_registry"));
        Assert.False(await ScalarAsync<bool>("SELECT has_chive_records FROM pds_registry"));
        await ExecuteAsync("UPDATE pds_registry SET next_scan_at = NULL");
        Assert.Empty(await Registry.ClaimDueAsync("w", 10));

        // An operator's explicit rescan brings it back.
        await Registry.RegisterAsync(url, DiscoverySource.Admin);
        Assert.Single(await Registry.ClaimDueAsync("w", 10));
    }

    [Fact]
    public async Task Only_the_lease_holder_can_record_an_outcome()
    {
        var url = new Uri("https://contested.example.test");
        await Registry.RegisterAsync(url, DiscoverySource.PlcEnumeration);
        Assert.True(await Registry.ClaimAsync(url, "first"));
        Assert.False(await Registry.ClaimAsync(url, "second"));

        Assert.False(await Registry.CompleteAsync(url, "second", 1));
        Assert.Equal("scanning", (await Registry.GetAsync(url))!.Status);
        Assert.True(await Registry.CompleteAsync(url, "first", 1));
        Assert.False(await Registry.CompleteAsync(url, "first", 1)); // recorded once: a chunk run again finds no claim
    }

    [Fact]
    public async Task A_limited_scan_keeps_what_it_found_records_why_and_is_not_a_failure()
    {
        var url = new Uri("https://endless.example.test");
        await Registry.RegisterAsync(url, DiscoverySource.PlcEnumeration);
        Assert.True(await Registry.ClaimAsync(url, "op"));

        Assert.True(await Registry.LimitAsync(url, "op", 42, "its listRepos cursors came round again (a cycle)"));

        var row = (await Registry.GetAsync(url))!;
        Assert.Equal(("active", 42, 0), (row.Status, row.ChiveRecordCount, row.ConsecutiveFailures));
        Assert.Equal("limited: its listRepos cursors came round again (a cycle)", row.LastError);
        Assert.Null(row.LeaseOwner);
    }

    [Fact]
    public async Task A_start_run_again_gets_back_exactly_the_PDSes_its_first_run_claimed()
    {
        foreach (var n in Enumerable.Range(0, 4))
        {
            await Registry.RegisterAsync(new Uri($"https://due{n}.example.test"), DiscoverySource.PlcEnumeration);
        }

        var first = await Registry.ClaimDueAsync("start-twice", 2);
        await Registry.RegisterAsync(new Uri("https://due-later.example.test"), DiscoverySource.PlcEnumeration);
        var again = await Registry.ClaimDueAsync("start-twice", 2);

        Assert.Equal(2, first.Count);
        Assert.Equal(first, again);
    }

    private async Task<(string, int, double)> StateAsync(string url)
    {
        await using var command = _db.CreateCommand("SELECT status, chive_record_count, round(extract(epoch FROM next_scan_at - now()) / 3600) FROM pds_registry WHERE pds_url = @url");
        command.Parameters.AddWithValue("url", url);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetString(0), reader.GetInt32(1), (double)reader.GetDecimal(2));
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var command = _db.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var command = _db.CreateCommand(sql);
        var value = await command.ExecuteScalarAsync();
        return value is decimal d && typeof(T) == typeof(double) ? (T)(object)(double)d : (T)value!;
    }
}
