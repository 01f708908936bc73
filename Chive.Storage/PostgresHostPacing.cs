using Chive.AtProto.Xrpc;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Chive.Storage;

/// <summary>
/// The shared per-host pace in PostgreSQL (<c>host_pacing</c>, unlogged), which every process that reads PDSes already
/// uses: one statement per request, a generic cell rate algorithm. A host's row holds its theoretical arrival time
/// (TAT); a request takes the slot <c>max(now, TAT − (burst − 1)·interval)</c> and moves the TAT one interval on, all
/// in one row update, so replicas serialise on the row and a host sees at most <c>burst</c> requests back to back and
/// its rate after that, however many processes ask. A slot further away than the caller waits is not taken. The time is
/// the database server's, so the replicas' clocks do not matter. A slot reserved by a request that is then cancelled
/// stays used: the host sees fewer requests, never more.
/// </summary>
public sealed class PostgresHostPacing(NpgsqlDataSource dataSource, ILogger<PostgresHostPacing>? logger = null) : IHostPacing
{
    /// <summary>
    /// How long a reservation may take (a first connection included, on a loaded server) before the caller paces alone:
    /// a hung pace must not stall the requests it paces for longer than this, once every 30 s (the caller then paces alone).
    /// </summary>
    public static readonly TimeSpan AnswerWithin = TimeSpan.FromSeconds(10);

    /// <summary>Rows of hosts idle this long are removed now and then, so hosts seen once do not stay for ever.</summary>
    private static readonly TimeSpan IdleRowLifetime = TimeSpan.FromMinutes(10);

    private readonly ILogger _logger = logger ?? NullLogger<PostgresHostPacing>.Instance;
    private long _reservations;

    public async ValueTask<TimeSpan?> ReserveAsync(string host, double requestsPerSecond, int burst, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        var interval = TimeSpan.FromSeconds(1 / requestsPerSecond);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(AnswerWithin);
        await using var command = dataSource.CreateCommand("""
            INSERT INTO host_pacing AS p (host, tat) VALUES (@host, clock_timestamp() + @interval)
            ON CONFLICT (host) DO UPDATE SET tat = greatest(p.tat, clock_timestamp()) + @interval
                WHERE p.tat - @tolerance - clock_timestamp() <= @max_wait
            RETURNING greatest(p.tat - @interval - @tolerance - clock_timestamp(), interval '0')
            """);
        command.Parameters.AddWithValue("host", Key(host));
        command.Parameters.AddWithValue("interval", interval);
        command.Parameters.AddWithValue("tolerance", interval * Math.Max(0, burst - 1));
        command.Parameters.AddWithValue("max_wait", maxWait);
        object? wait;
        try
        {
            wait = await command.ExecuteScalarAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"the shared pace did not answer within {AnswerWithin.TotalSeconds:0} s");
        }

        if (Interlocked.Increment(ref _reservations) % 4096 == 0)
        {
            await PruneAsync(cancellationToken);
        }

        return wait is TimeSpan reserved ? reserved : null;
    }

    /// <summary>
    /// The row's key: the host itself, or for a name longer than any DNS name, its SHA-256 — a host comes from URLs others
    /// write (DID documents), and a key past the primary key's size limit would fail every reservation of it, and with
    /// it the shared pace for every host of this process for a while.
    /// </summary>
    public static string Key(string host) => host.Length <= MaxPlainKey
        ? host
        : "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(host)));

    private const int MaxPlainKey = 300;

    /// <summary>After the reservation, on its own: a prune that fails leaves rows for the next one, and the slot stands.</summary>
    private async Task PruneAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var prune = dataSource.CreateCommand("DELETE FROM host_pacing WHERE tat < clock_timestamp() - @idle");
            prune.Parameters.AddWithValue("idle", IdleRowLifetime);
            prune.CommandTimeout = 5;
            await prune.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            _logger.LogWarning(ex, "Pruning idle rows of host_pacing failed; the next prune tries again");
        }
    }
}
