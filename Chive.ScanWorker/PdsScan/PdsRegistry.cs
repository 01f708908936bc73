using Chive.AtProto.Net;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Chive.ScanWorker.PdsScan;

public enum DiscoverySource
{
    PlcEnumeration,
    RelayListhosts,
    UserRegistration,
    DidMention,
    Admin,
}

/// <summary>One <c>pds_registry</c> row.</summary>
public sealed record PdsRow(
    string PdsUrl, string DiscoverySource, string Status, bool HasChiveRecords, int ChiveRecordCount, int ConsecutiveFailures,
    string? LastError, DateTimeOffset? LastScanAt, DateTimeOffset? NextScanAt, string? LeaseOwner);

/// <summary>
/// The <c>pds_registry</c> table: which PDSes exist, which are due, who is scanning which (a lease taken with
/// <c>FOR UPDATE SKIP LOCKED</c>, so two scans never take the same PDS and a crashed worker's claim lapses), and what a
/// scan found. A failure is never recorded as "no records": it backs off 1/2/4/8/16 h and, after
/// <see cref="PdsRegistryOptions.MaxConsecutiveFailures"/>, marks the PDS unreachable.
/// </summary>
public sealed class PdsRegistry(NpgsqlDataSource dataSource, IOptions<PdsRegistryOptions> options)
{
    /// <summary>
    /// Adds a PDS (status pending) if unknown; returns true when it was new. An admin registration of a known PDS makes
    /// it due now and clears its failures (Chive's rescanPDS did nothing for a known PDS).
    /// </summary>
    public async Task<bool> RegisterAsync(Uri url, DiscoverySource source, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO pds_registry (pds_url, discovery_source) VALUES (@url, @source)
            ON CONFLICT (pds_url) DO UPDATE SET
                next_scan_at = CASE WHEN @admin THEN now() ELSE pds_registry.next_scan_at END,
                consecutive_failures = CASE WHEN @admin THEN 0 ELSE pds_registry.consecutive_failures END,
                status = CASE WHEN @admin AND pds_registry.status = 'unreachable' THEN 'pending' ELSE pds_registry.status END
            RETURNING (xmax = 0)
            """);
        command.Parameters.AddWithValue("url", ServiceOrigin.Normalize(url));
        command.Parameters.AddWithValue("source", SourceName(source));
        command.Parameters.AddWithValue("admin", source == DiscoverySource.Admin);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>
    /// Adds up to <paramref name="limit"/> of the PDSes not yet known (status pending, due at once) in one statement, in
    /// the order given; known ones are left exactly as they are. Returns those that were new.
    /// </summary>
    public async Task<IReadOnlyList<string>> RegisterDiscoveredAsync(IReadOnlyList<string> origins, DiscoverySource source, int limit, CancellationToken cancellationToken = default)
    {
        if (origins.Count == 0 || limit <= 0)
        {
            return [];
        }

        await using var command = dataSource.CreateCommand("""
            INSERT INTO pds_registry (pds_url, discovery_source)
            SELECT url, @source FROM unnest(@urls) WITH ORDINALITY AS given(url, n)
            WHERE NOT EXISTS (SELECT 1 FROM pds_registry known WHERE known.pds_url = given.url)
            ORDER BY n
            LIMIT @limit
            ON CONFLICT (pds_url) DO NOTHING
            RETURNING pds_url
            """);
        command.Parameters.AddWithValue("urls", origins.ToArray());
        command.Parameters.AddWithValue("source", SourceName(source));
        command.Parameters.AddWithValue("limit", limit);
        var added = await ReadUrlsAsync(command, cancellationToken);
        ScanMetrics.Discovered(SourceName(source), added.Count);
        return added;
    }

    /// <summary>Where discovery stopped reading <paramref name="source"/>, or null before its first run.</summary>
    public async Task<string?> GetDiscoveryCursorAsync(string source, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("SELECT cursor FROM discovery_cursors WHERE source = @source");
        command.Parameters.AddWithValue("source", source);
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    public async Task SetDiscoveryCursorAsync(string source, string cursor, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO discovery_cursors (source, cursor) VALUES (@source, @cursor)
            ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor, updated_at = now()
            """);
        command.Parameters.AddWithValue("source", source);
        command.Parameters.AddWithValue("cursor", cursor);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Claims up to <paramref name="limit"/> due PDSes for <paramref name="owner"/>: priority first, oldest due first. An
    /// owner that already holds claims (its start ran before) gets exactly those back, renewed, and claims no more.
    /// Sorted by URL.
    /// </summary>
    public async Task<IReadOnlyList<string>> ClaimDueAsync(string owner, int limit, CancellationToken cancellationToken = default)
    {
        await using (var held = dataSource.CreateCommand("""
            UPDATE pds_registry SET lease_expires_at = now() + @lease WHERE lease_owner = @owner RETURNING pds_url
            """))
        {
            held.Parameters.AddWithValue("owner", owner);
            held.Parameters.AddWithValue("lease", options.Value.Lease);
            if (await ReadUrlsAsync(held, cancellationToken) is { Count: > 0 } mine)
            {
                return mine.Order(StringComparer.Ordinal).ToList();
            }
        }

        await using var command = dataSource.CreateCommand("""
            WITH due AS (
                SELECT pds_url FROM pds_registry
                WHERE status IN ('pending', 'active', 'no_chive_records', 'scanning')
                  AND (next_scan_at IS NULL OR next_scan_at <= now())
                  AND consecutive_failures < @maxFailures
                  AND (lease_expires_at IS NULL OR lease_expires_at < now() OR lease_owner = @owner)
                ORDER BY scan_priority, next_scan_at NULLS FIRST, pds_url
                LIMIT @limit
                FOR UPDATE SKIP LOCKED)
            UPDATE pds_registry p SET status = 'scanning', lease_owner = @owner, lease_expires_at = now() + @lease
            FROM due WHERE p.pds_url = due.pds_url
            RETURNING p.pds_url
            """);
        command.Parameters.AddWithValue("maxFailures", options.Value.MaxConsecutiveFailures);
        command.Parameters.AddWithValue("limit", limit);
        command.Parameters.AddWithValue("owner", owner);
        command.Parameters.AddWithValue("lease", options.Value.Lease);
        return (await ReadUrlsAsync(command, cancellationToken)).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>Claims one PDS whatever its schedule (an admin asked for it); false while another scan holds it.</summary>
    public async Task<bool> ClaimAsync(Uri url, string owner, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE pds_registry SET status = 'scanning', lease_owner = @owner, lease_expires_at = now() + @lease
            WHERE pds_url = @url AND (lease_expires_at IS NULL OR lease_expires_at < now() OR lease_owner = @owner)
            """);
        command.Parameters.AddWithValue("url", ServiceOrigin.Normalize(url));
        command.Parameters.AddWithValue("owner", owner);
        command.Parameters.AddWithValue("lease", options.Value.Lease);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>
    /// A complete scan: active with records (next in 24 h) or no_chive_records (next in 168 h); failures reset; the number
    /// of repos it listed kept (the freshness scan's measure of the PDS's size). A scan in which some repo's CAR did not
    /// verify (<paramref name="unverified"/>, the first reason) is charged one failure instead — once per scan, however
    /// many repos: a PDS that keeps serving repos its accounts did not sign ends up unreachable, one with a single broken
    /// repo among thousands is only reminded. False when the claim is no longer this owner's (a chunk run again after its
    /// outcome was recorded).
    /// </summary>
    public Task<bool> CompleteAsync(Uri url, string owner, int chiveRecordCount, long? repoCount = null, string? unverified = null, CancellationToken cancellationToken = default) =>
        FinishAsync(url, owner, unverified is null ? "completed" : "unverified", """
            UPDATE pds_registry SET
                status = CASE WHEN CAST(@unverified AS text) IS NOT NULL AND consecutive_failures + 1 >= @maxFailures THEN 'unreachable'
                              WHEN @count > 0 THEN 'active' ELSE 'no_chive_records' END,
                has_chive_records = @count > 0, chive_record_count = @count, repo_count = coalesce(@repos, repo_count),
                last_scan_at = now(), next_scan_at = now() + CASE WHEN @count > 0 THEN @active ELSE @none END,
                consecutive_failures = CASE WHEN CAST(@unverified AS text) IS NULL THEN 0 ELSE consecutive_failures + 1 END,
                last_error = left('a repo did not verify: ' || CAST(@unverified AS text), 2000),
                lease_owner = NULL, lease_expires_at = NULL
            WHERE pds_url = @url AND lease_owner = @owner
            """, cancellationToken, ("count", chiveRecordCount), ("active", options.Value.ActiveRescan), ("none", options.Value.NoRecordsRescan),
            ("repos", repoCount is { } n ? (int)Math.Min(int.MaxValue, n) : DBNull.Value), ("unverified", (object?)unverified ?? DBNull.Value),
            ("maxFailures", options.Value.MaxConsecutiveFailures));

    /// <summary>
    /// One failure charged to a PDS outside a scan's claim (a DID sync or a freshness scan read a repo from it whose CAR
    /// did not verify): counted towards unreachable like a failed scan; its schedule and any claim are left alone.
    /// </summary>
    public async Task ChargeAsync(Uri url, string error, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE pds_registry SET
                consecutive_failures = consecutive_failures + 1,
                status = CASE WHEN consecutive_failures + 1 >= @maxFailures THEN 'unreachable' ELSE status END,
                last_error = left(@error, 2000)
            WHERE pds_url = @url
            RETURNING status, consecutive_failures = @maxFailures
            """);
        command.Parameters.AddWithValue("url", ServiceOrigin.Normalize(url));
        command.Parameters.AddWithValue("error", error);
        command.Parameters.AddWithValue("maxFailures", options.Value.MaxConsecutiveFailures);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (await reader.ReadAsync(cancellationToken) && reader.GetBoolean(1))
        {
            ScanMetrics.BecameUnreachable();
        }
    }

    /// <summary>A failed scan (unreachable, timeout, 5xx after retries): back off, and give up after too many.</summary>
    public Task<bool> FailAsync(Uri url, string owner, string error, CancellationToken cancellationToken = default) =>
        FinishAsync(url, owner, "failed", """
            UPDATE pds_registry SET
                consecutive_failures = consecutive_failures + 1,
                status = CASE WHEN consecutive_failures + 1 >= @maxFailures THEN 'unreachable'
                              WHEN has_chive_records THEN 'active' ELSE 'pending' END,
                last_error = left(@error, 2000), last_scan_at = now(),
                next_scan_at = now() + @backoff * power(2, least(consecutive_failures, 4)),
                lease_owner = NULL, lease_expires_at = NULL
            WHERE pds_url = @url AND lease_owner = @owner
            """, cancellationToken, ("error", error), ("backoff", options.Value.FailureBackoff), ("maxFailures", options.Value.MaxConsecutiveFailures));

    /// <summary>
    /// A scan stopped at a cap or a cursor cycle (<paramref name="reason"/>): what was read is kept, the PDS is not counted
    /// as failed, and it is due again after the normal interval — a PDS that is merely very large is scanned up to the
    /// caps every time, one that loops or never ends costs at most the caps.
    /// </summary>
    public Task<bool> LimitAsync(Uri url, string owner, int chiveRecordCount, string reason, CancellationToken cancellationToken = default) =>
        FinishAsync(url, owner, "limited", """
            UPDATE pds_registry SET
                status = CASE WHEN @count > 0 OR has_chive_records THEN 'active' ELSE 'pending' END,
                has_chive_records = has_chive_records OR @count > 0, chive_record_count = greatest(chive_record_count, @count),
                last_scan_at = now(), next_scan_at = now() + @active,
                consecutive_failures = 0, last_error = left('limited: ' || @reason, 2000), lease_owner = NULL, lease_expires_at = NULL
            WHERE pds_url = @url AND lease_owner = @owner
            """, cancellationToken, ("count", chiveRecordCount), ("reason", reason), ("active", options.Value.ActiveRescan));

    /// <summary>Gives back claims without a result (the scan was cancelled before reaching them): the status is restored.</summary>
    public async Task ReleaseAsync(IEnumerable<string> urls, string owner, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE pds_registry SET
                status = CASE WHEN has_chive_records THEN 'active' WHEN last_scan_at IS NULL OR consecutive_failures > 0 THEN 'pending'
                              ELSE 'no_chive_records' END,
                lease_owner = NULL, lease_expires_at = NULL
            WHERE pds_url = ANY(@urls) AND lease_owner = @owner
            """);
        command.Parameters.AddWithValue("urls", urls.ToArray());
        command.Parameters.AddWithValue("owner", owner);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The row of one PDS (for operators and tests), or null.</summary>
    public async Task<PdsRow?> GetAsync(Uri url, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT pds_url, discovery_source, status, has_chive_records, chive_record_count, consecutive_failures, last_error,
                   last_scan_at, next_scan_at, lease_owner
            FROM pds_registry WHERE pds_url = @url
            """);
        command.Parameters.AddWithValue("url", ServiceOrigin.Normalize(url));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new PdsRow(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetBoolean(3), reader.GetInt32(4), reader.GetInt32(5),
                reader.IsDBNull(6) ? null : reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetFieldValue<DateTimeOffset>(7),
                reader.IsDBNull(8) ? null : reader.GetFieldValue<DateTimeOffset>(8), reader.IsDBNull(9) ? null : reader.GetString(9))
            : null;
    }

    /// <summary>
    /// Records a scan's outcome for one PDS while this owner still holds it; counts it (<see cref="ScanMetrics"/>), and
    /// the moment it turned the PDS unreachable, once.
    /// </summary>
    private async Task<bool> FinishAsync(Uri url, string owner, string outcome, string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        // The outcome is also noted for the operation (its detail view), in the same statement.
        await using var command = dataSource.CreateCommand($"""
            WITH done AS (
            {sql}
            RETURNING pds_url, status, chive_record_count, last_error, consecutive_failures),
            noted AS (
                INSERT INTO operation_pds_outcomes (operation_id, pds_url, outcome, status, chive_records, error)
                SELECT @owner, pds_url, @outcome, status, chive_record_count, last_error FROM done
                ON CONFLICT (operation_id, pds_url) DO UPDATE SET outcome = excluded.outcome, status = excluded.status,
                    chive_records = excluded.chive_records, error = excluded.error, finished_at = now())
            SELECT status, status = 'unreachable' AND consecutive_failures = @maxFailures FROM done
            """);
        command.Parameters.AddWithValue("url", ServiceOrigin.Normalize(url));
        command.Parameters.AddWithValue("owner", owner);
        command.Parameters.AddWithValue("outcome", outcome);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        if (!command.Parameters.Contains("maxFailures"))
        {
            command.Parameters.AddWithValue("maxFailures", options.Value.MaxConsecutiveFailures);
        }

        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return false;
        }

        ScanMetrics.PdsScanned(outcome);
        if (reader.GetBoolean(1))
        {
            ScanMetrics.BecameUnreachable();
        }

        return true;
    }

    private static async Task<IReadOnlyList<string>> ReadUrlsAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var urls = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            urls.Add(reader.GetString(0));
        }

        return urls;
    }

    private static string SourceName(DiscoverySource source) => source switch
    {
        DiscoverySource.PlcEnumeration => "plc_enumeration",
        DiscoverySource.RelayListhosts => "relay_listhosts",
        DiscoverySource.UserRegistration => "user_registration",
        DiscoverySource.DidMention => "did_mention",
        _ => "admin",
    };
}
