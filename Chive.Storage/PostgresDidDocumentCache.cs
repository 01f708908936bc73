using Chive.AtProto.Identity;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Chive.Storage;

/// <summary>
/// The shared DID document cache in PostgreSQL (<c>did_documents</c>, unlogged), which every worker already uses: one
/// statement a lookup or a store. A document's age is the database server's clock, so the replicas' clocks do not
/// matter. A lookup or store that fails or takes longer than <see cref="AnswerWithin"/> throws; the resolver then
/// fetches the document itself.
/// </summary>
public sealed class PostgresDidDocumentCache(NpgsqlDataSource dataSource, ILogger<PostgresDidDocumentCache>? logger = null) : IDidDocumentCache
{
    /// <summary>How long a lookup or store may take before the resolver goes to the source itself (a cache slower than that is none).</summary>
    public static readonly TimeSpan AnswerWithin = TimeSpan.FromSeconds(2);

    private readonly ILogger _logger = logger ?? NullLogger<PostgresDidDocumentCache>.Instance;
    private long _stores;

    public async ValueTask<(string Document, TimeSpan Remaining)?> GetAsync(string did, TimeSpan maxAge, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT document, fetched_at + @max_age - clock_timestamp() FROM did_documents
            WHERE did = @did AND fetched_at > clock_timestamp() - @max_age
            """);
        command.Parameters.AddWithValue("did", did);
        command.Parameters.AddWithValue("max_age", maxAge);
        using var timeout = Timeout(cancellationToken);
        try
        {
            await using var reader = await command.ExecuteReaderAsync(timeout.Token);
            return await reader.ReadAsync(timeout.Token) ? (reader.GetString(0), reader.GetFieldValue<TimeSpan>(1)) : null;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"the shared DID document cache did not answer within {AnswerWithin.TotalSeconds:0} s");
        }
    }

    public async ValueTask SetAsync(string did, string document, TimeSpan keep, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO did_documents (did, document, fetched_at) VALUES (@did, @document, clock_timestamp())
            ON CONFLICT (did) DO UPDATE SET document = EXCLUDED.document, fetched_at = EXCLUDED.fetched_at
            """);
        command.Parameters.AddWithValue("did", did);
        command.Parameters.AddWithValue("document", document);
        using var timeout = Timeout(cancellationToken);
        try
        {
            await command.ExecuteNonQueryAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"the shared DID document cache did not answer within {AnswerWithin.TotalSeconds:0} s");
        }

        if (Interlocked.Increment(ref _stores) % 1024 == 0)
        {
            await PruneAsync(keep);
        }
    }

    private static CancellationTokenSource Timeout(CancellationToken cancellationToken)
    {
        var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(AnswerWithin);
        return timeout;
    }

    /// <summary>
    /// After a store, on its own and within <see cref="AnswerWithin"/>: rows older than the storer keeps its own (a reader
    /// with a longer lifetime only misses them). A prune that fails leaves rows for the next one.
    /// </summary>
    private async Task PruneAsync(TimeSpan keep)
    {
        try
        {
            await using var prune = dataSource.CreateCommand("DELETE FROM did_documents WHERE fetched_at < clock_timestamp() - @keep");
            prune.Parameters.AddWithValue("keep", keep);
            using var timeout = new CancellationTokenSource(AnswerWithin);
            await prune.ExecuteNonQueryAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or OperationCanceledException)
        {
            _logger.LogWarning(ex, "Pruning expired rows of did_documents failed; the next prune tries again");
        }
    }
}
