using System.Net;
using System.Text.Json;
using Chive.Tests.Infrastructure;
using Npgsql;

namespace Chive.Tests.Foundation;

[Collection(ChiveAppCollection.Name)]
public sealed class SmokeTests(ChiveAppFixture fixture)
{
    [Fact]
    public async Task All_four_services_start_from_the_AppHost_and_report_healthy()
    {
        foreach (var service in ChiveAppFixture.Services)
        {
            using var client = fixture.CreateClient(service);
            using var response = await client.GetAsync("/health").WaitAsync(TimeSpan.FromSeconds(30));
            var body = await response.Content.ReadAsStringAsync();

            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{service} /health answered {(int)response.StatusCode}: {body}");
            using var json = JsonDocument.Parse(body);
            Assert.Equal("Healthy", json.RootElement.GetProperty("status").GetString());
            Assert.True(json.RootElement.GetProperty("checks").EnumerateObject().Count() >= 2, $"{service} checks nothing but itself: {body}");
        }
    }

    [Fact]
    public async Task The_services_apply_the_schema_migrations_once_on_an_empty_database()
    {
        await using var connection = new NpgsqlConnection(fixture.DatabaseConnectionString);
        await connection.OpenAsync();

        await using var tables = new NpgsqlCommand(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name = ANY(@names)", connection);
        tables.Parameters.AddWithValue("names", new[] { "pds_registry", "indexed_records", "eprints_index" });
        Assert.Equal(3L, await tables.ExecuteScalarAsync());

        // Three services migrate at start-up; the advisory lock lets exactly one apply each file.
        await using var journal = new NpgsqlCommand(
            "SELECT version, count(*) FROM schema_migrations WHERE name LIKE 'V%' GROUP BY version", connection);
        await using var reader = await journal.ExecuteReaderAsync();
        var rows = 0;
        while (await reader.ReadAsync())
        {
            rows++;
            Assert.Equal(1L, reader.GetInt64(1));
        }

        Assert.True(rows >= 1, "no migration recorded in schema_migrations");
    }
}
