using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace Chive.CitationWorker.Citations;

/// <summary>
/// Semantic Scholar and Crossref answers kept in PostgreSQL (<c>citation_lookups</c>) by what was asked, with a TTL:
/// the JSON answer, or "not found" (a 404, a null in a batch answer). Shared by every replica, kept across restarts.
/// </summary>
public sealed class LookupCache(NpgsqlDataSource dataSource, TimeProvider time)
{
    /// <summary>A cached answer: <see cref="Answer"/> null means the service said it does not know the id.</summary>
    public sealed record Entry(JsonElement? Answer);

    public async Task<Dictionary<string, Entry>> GetAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
    {
        var found = new Dictionary<string, Entry>(StringComparer.Ordinal);
        if (keys.Count == 0)
        {
            return found;
        }

        await using var command = dataSource.CreateCommand("SELECT key, answer FROM citation_lookups WHERE key = ANY(@keys) AND expires_at > @now");
        command.Parameters.AddWithValue("keys", keys.ToArray());
        command.Parameters.AddWithValue("now", time.GetUtcNow());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            found[reader.GetString(0)] = new Entry(reader.IsDBNull(1) ? null : Parse(reader.GetString(1)));
        }

        return found;
    }

    private static JsonElement Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    public async Task<Entry?> GetAsync(string key, CancellationToken cancellationToken) =>
        (await GetAsync([key], cancellationToken)).GetValueOrDefault(key);

    /// <summary>Stores answers (null: not found) for <paramref name="ttl"/>; nothing when the TTL is zero.</summary>
    public async Task SetAsync(IReadOnlyCollection<KeyValuePair<string, string?>> answers, TimeSpan ttl, CancellationToken cancellationToken)
    {
        if (answers.Count == 0 || ttl <= TimeSpan.Zero)
        {
            return;
        }

        await using var command = dataSource.CreateCommand("""
            INSERT INTO citation_lookups (key, answer, fetched_at, expires_at)
            SELECT k, a::jsonb, @now, @expires FROM unnest(@keys, @answers) AS t(k, a)
            ON CONFLICT (key) DO UPDATE SET answer = excluded.answer, fetched_at = excluded.fetched_at, expires_at = excluded.expires_at
            """);
        var now = time.GetUtcNow();
        command.Parameters.AddWithValue("now", now);
        command.Parameters.AddWithValue("expires", now + ttl);
        command.Parameters.AddWithValue("keys", answers.Select(a => a.Key).ToArray());
        command.Parameters.Add(new NpgsqlParameter<string?[]>("answers", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = answers.Select(a => a.Value).ToArray() });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public Task SetAsync(string key, string? answer, TimeSpan ttl, CancellationToken cancellationToken) =>
        SetAsync([new KeyValuePair<string, string?>(key, answer)], ttl, cancellationToken);

    /// <summary>Drops expired answers (called with the ledger's pruning; the table only grows otherwise).</summary>
    public async Task<int> PruneAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM citation_lookups WHERE expires_at <= @now");
        command.Parameters.AddWithValue("now", time.GetUtcNow());
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
