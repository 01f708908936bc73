using Npgsql;

namespace Chive.Tests.Infrastructure;

/// <summary>
/// The real PostgreSQL, Redis and RabbitMQ servers that <c>scripts/test-services.sh</c> starts (through
/// <c>scripts/test.sh</c>, the README's test command). Their connection strings arrive in the usual environment
/// variables; a test run without them fails with a message saying how to get them, never with a skip.
/// </summary>
internal static class TestServers
{
    public static string Postgres => Required("ConnectionStrings__postgres");

    public static string Redis => Required("ConnectionStrings__redis");

    public static string RabbitMq => Required("ConnectionStrings__rabbitmq");

    public static (string Host, int Port) Endpoint(string connectionStringVariable) => connectionStringVariable switch
    {
        "postgres" => (new NpgsqlConnectionStringBuilder(Postgres).Host!, new NpgsqlConnectionStringBuilder(Postgres).Port),
        "redis" => ParseHostPort(Redis.Split(',')[0]),
        "rabbitmq" => (new Uri(RabbitMq).Host, new Uri(RabbitMq).Port),
        _ => throw new ArgumentOutOfRangeException(nameof(connectionStringVariable)),
    };

    /// <summary>Creates an empty database on the test server, so each fixture migrates from nothing and owns its data.</summary>
    public static async Task<string> CreateDatabaseAsync(string prefix)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 33, 63)];
        await using var connection = new NpgsqlConnection(Postgres);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
        return name;
    }

    public static string PostgresConnectionString(string database, string? host = null, int? port = null)
    {
        var builder = new NpgsqlConnectionStringBuilder(Postgres) { Database = database };
        if (host is not null)
        {
            builder.Host = host;
        }

        if (port is not null)
        {
            builder.Port = port.Value;
        }

        return builder.ConnectionString;
    }

    /// <summary>A loopback port nothing listens on (for a server the test starts, or one that must refuse connections).</summary>
    public static int UnusedPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static (string, int) ParseHostPort(string value)
    {
        var colon = value.LastIndexOf(':');
        return (value[..colon], int.Parse(value[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }

    private static string Required(string variable) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"{variable} is not set. Run the tests with scripts/test.sh, which starts PostgreSQL, Redis and RabbitMQ " +
                "and exports their connection strings (or run scripts/test-services.sh start and source .test-state/env).");
}
