using Chive.AtProto.Xrpc;
using Npgsql;

namespace Chive.Storage;

/// <summary>
/// The shared per-host pace in PostgreSQL (<c>host_pacing</c>, unlogged), which every process that reads PDSes already
/// uses: one statement per request, a generic cell rate algorithm. A host's row holds its theoretical arrival time
/// (TAT); a request takes the slot <c>max(now, TAT − (burst − 1)·interval)</c> and moves the TAT one interval on, all
/// in one row update, so replicas serialise on the row and a host sees at most <c>burst</c> requests back to back and
/// its rate after that, however many processes ask. The time is the database server's, so the replicas' clocks do not
/// matter. A slot reserved by a request that is then cancelled stays used: the host sees fewer requests, never more.
/// </summary>
public sealed class PostgresHostPacing(NpgsqlDataSource dataSource) : IHostPacing
{
    /// <summary>Rows of hosts idle this long are removed now and then, so hosts seen once do not stay for ever.</summary>
    private static readonly TimeSpan IdleRowLifetime = TimeSpan.FromMinutes(10);

    private long _reservations;

    public async ValueTask<TimeSpan> ReserveAsync(string host, double requestsPerSecond, int burst, CancellationToken cancellationToken)
    {
        var interval = TimeSpan.FromSeconds(1 / requestsPerSecond);
        await using var command = dataSource.CreateCommand("""
            INSERT INTO host_pacing AS p (host, tat) VALUES (@host, clock_timestamp() + @interval)
            ON CONFLICT (host) DO UPDATE SET tat = greatest(p.tat, clock_timestamp()) + @interval
            RETURNING greatest(p.tat - @interval - @tolerance - clock_timestamp(), interval '0')
            """);
        command.Parameters.AddWithValue("host", host);
        command.Parameters.AddWithValue("interval", interval);
        command.Parameters.AddWithValue("tolerance", interval * Math.Max(0, burst - 1));
        var wait = (TimeSpan)(await command.ExecuteScalarAsync(cancellationToken))!;
        if (Interlocked.Increment(ref _reservations) % 4096 == 0)
        {
            await using var prune = dataSource.CreateCommand("DELETE FROM host_pacing WHERE tat < clock_timestamp() - @idle");
            prune.Parameters.AddWithValue("idle", IdleRowLifetime);
            await prune.ExecuteNonQueryAsync(cancellationToken);
        }

        return wait;
    }
}
