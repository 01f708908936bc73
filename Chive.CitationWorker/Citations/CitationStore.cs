using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;
using NpgsqlTypes;

namespace Chive.CitationWorker.Citations;

/// <summary>What an eprint's last extraction was made from and what it found (<c>citation_extractions</c>).</summary>
public sealed record ExtractionState(string? DocumentBlobCid, bool Complete, string RowsHash, int Citations, int Matched, Guid? OperationId);

/// <summary>
/// Writes an eprint's automatic citations: in one transaction, its previous automatic rows deleted and the new ones
/// inserted (one statement, arrays unnested), and its extraction state recorded. Rows from <c>pub.chive.eprint.citation</c>
/// records (<c>user-provided</c>, <c>user_record_uri</c> set) are never deleted. When the rows are exactly those the
/// last extraction wrote (same hash), the citations are not touched at all.
/// </summary>
public sealed class CitationStore(NpgsqlDataSource dataSource)
{
    public async Task<ExtractionState?> StateAsync(string eprintUri, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT document_blob_cid, complete, rows_hash, citations, matched, operation_id FROM citation_extractions WHERE eprint_uri = @uri");
        command.Parameters.AddWithValue("uri", eprintUri);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new ExtractionState(reader.IsDBNull(0) ? null : reader.GetString(0), reader.GetBoolean(1), reader.GetString(2), reader.GetInt32(3), reader.GetInt32(4),
                reader.IsDBNull(5) ? null : reader.GetGuid(5))
            : null;
    }

    /// <summary>Replaces the eprint's automatic citations (unless unchanged) and records the extraction. True when rows were written.</summary>
    public async Task<bool> WriteAsync(
        EprintToExtract eprint, IReadOnlyList<Citation> citations, bool complete, Guid operationId, ExtractionState? previous, CancellationToken cancellationToken)
    {
        var hash = Hash(citations);
        var changed = previous?.RowsHash != hash;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (changed)
        {
            await using (var delete = new NpgsqlCommand(
                "DELETE FROM extracted_citations WHERE eprint_uri = @uri AND source <> 'user-provided' AND user_record_uri IS NULL", connection, transaction))
            {
                delete.Parameters.AddWithValue("uri", eprint.Uri);
                await delete.ExecuteNonQueryAsync(cancellationToken);
            }

            if (citations.Count > 0)
            {
                await InsertAsync(connection, transaction, eprint.Uri, citations, cancellationToken);
            }
        }

        await using (var state = new NpgsqlCommand("""
            INSERT INTO citation_extractions (eprint_uri, document_blob_cid, complete, rows_hash, citations, matched, operation_id, extracted_at)
            VALUES (@uri, @blob, @complete, @hash, @citations, @matched, @operation, now())
            ON CONFLICT (eprint_uri) DO UPDATE SET document_blob_cid = excluded.document_blob_cid, complete = excluded.complete,
              rows_hash = excluded.rows_hash, citations = excluded.citations, matched = excluded.matched,
              operation_id = excluded.operation_id, extracted_at = excluded.extracted_at
            """, connection, transaction))
        {
            state.Parameters.AddWithValue("uri", eprint.Uri);
            state.Parameters.AddWithValue("blob", (object?)eprint.DocumentBlobCid ?? DBNull.Value);
            state.Parameters.AddWithValue("complete", complete);
            state.Parameters.AddWithValue("hash", hash);
            state.Parameters.AddWithValue("citations", citations.Count);
            state.Parameters.AddWithValue("matched", citations.Count(c => c.MatchUri is not null));
            state.Parameters.AddWithValue("operation", operationId);
            await state.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return changed;
    }

    private static async Task InsertAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string eprintUri, IReadOnlyList<Citation> citations, CancellationToken cancellationToken)
    {
        // The rows' order is their position: ids follow it, so a reader ordering by id sees the document's order.
        await using var insert = new NpgsqlCommand("""
            INSERT INTO extracted_citations (eprint_uri, raw_text, title, doi, arxiv_id, authors, year, venue, volume, pages, source, sources,
              confidence, chive_match_uri, match_confidence, match_method, is_influential)
            SELECT @uri, raw_text, title, doi, arxiv_id, authors::jsonb, year, venue, volume, pages, source, string_to_array(sources, ','),
              confidence, match_uri, match_confidence, match_method, is_influential
            FROM unnest(@raw_text, @title, @doi, @arxiv_id, @authors, @year, @venue, @volume, @pages, @source, @sources,
              @confidence, @match_uri, @match_confidence, @match_method, @is_influential) WITH ORDINALITY
              AS t(raw_text, title, doi, arxiv_id, authors, year, venue, volume, pages, source, sources,
                   confidence, match_uri, match_confidence, match_method, is_influential, position)
            ORDER BY position
            """, connection, transaction);
        insert.Parameters.AddWithValue("uri", eprintUri);
        Text(insert, "raw_text", citations.Select(c => c.RawText));
        Text(insert, "title", citations.Select(c => c.Title));
        Text(insert, "doi", citations.Select(c => c.Doi));
        Text(insert, "arxiv_id", citations.Select(c => c.ArxivId));
        Text(insert, "authors", citations.Select(c => (string?)AuthorsJson(c)));
        insert.Parameters.Add(new NpgsqlParameter<int?[]>("year", NpgsqlDbType.Array | NpgsqlDbType.Integer) { TypedValue = citations.Select(c => c.Year).ToArray() });
        Text(insert, "venue", citations.Select(c => c.Venue));
        Text(insert, "volume", citations.Select(c => c.Volume));
        Text(insert, "pages", citations.Select(c => c.Pages));
        Text(insert, "source", citations.Select(c => (string?)c.Source));
        Text(insert, "sources", citations.Select(c => (string?)string.Join(',', c.Sources)));
        insert.Parameters.Add(new NpgsqlParameter<float[]>("confidence", NpgsqlDbType.Array | NpgsqlDbType.Real) { TypedValue = citations.Select(c => (float)c.Confidence).ToArray() });
        Text(insert, "match_uri", citations.Select(c => c.MatchUri));
        insert.Parameters.Add(new NpgsqlParameter<float?[]>("match_confidence", NpgsqlDbType.Array | NpgsqlDbType.Real)
        {
            TypedValue = citations.Select(c => c.MatchConfidence is { } m ? (float?)m : null).ToArray(),
        });
        Text(insert, "match_method", citations.Select(c => c.MatchMethod));
        insert.Parameters.Add(new NpgsqlParameter<bool?[]>("is_influential", NpgsqlDbType.Array | NpgsqlDbType.Boolean)
        {
            TypedValue = citations.Select(c => c.IsInfluential).ToArray(),
        });
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    private static void Text(NpgsqlCommand command, string name, IEnumerable<string?> values) =>
        command.Parameters.Add(new NpgsqlParameter<string?[]>(name, NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = values.ToArray() });

    /// <summary>Chive's shape: <c>[{"firstName", "lastName"}]</c>.</summary>
    private static string AuthorsJson(Citation citation) =>
        new JsonArray(citation.Authors.Select(a => (JsonNode)new JsonObject { ["firstName"] = a.FirstName, ["lastName"] = a.LastName }).ToArray()).ToJsonString();

    /// <summary>A digest of the rows as they would be written, in order: equal digests, equal rows.</summary>
    public static string Hash(IReadOnlyList<Citation> citations)
    {
        var canonical = JsonSerializer.Serialize(citations.Select(c => new object?[]
        {
            c.RawText, c.Title, c.Doi, c.ArxivId, AuthorsJson(c), c.Year, c.Venue, c.Volume, c.Pages, c.Source, string.Join(',', c.Sources),
            (float)c.Confidence, c.MatchUri, c.MatchConfidence is { } m ? (float)m : null, c.MatchMethod, c.IsInfluential,
        }));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }
}
