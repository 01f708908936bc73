using System.Text.Json;
using Npgsql;

namespace Chive.IndexWorker.Search;

/// <summary>
/// Reads search documents from <c>eprints_index</c> — one query per batch, everything a document needs included
/// (field labels from the record, else from <c>governance_nodes</c>): a keyset page for the full reindex, the eprints a
/// batch just wrote for the pipeline, and what changed since a moment for the reindex's replay.
/// </summary>
public static class EprintDocuments
{
    private const string Select = """
        SELECT e.uri, e.cid, e.title, e.abstract_plain_text, e.keywords, e.authors::text,
               coalesce((SELECT jsonb_agg(jsonb_build_object('uri', f ->> 'uri', 'label', coalesce(f ->> 'label', g.label)) ORDER BY x.ord)
                         FROM jsonb_array_elements(e.fields) WITH ORDINALITY AS x(f, ord)
                         LEFT JOIN governance_nodes g ON g.uri = f ->> 'uri'), '[]'::jsonb)::text,
               e.submitted_by, e.published_version ->> 'doi', e.license, e.pds_url, e.created_at, e.indexed_at
        FROM eprints_index e
        """;

    /// <summary>Live eprints after <paramref name="afterUri"/> in AT-URI order (keyset pagination: a stable key, no OFFSET).</summary>
    public static Task<List<IndexableEprintDocument>> PageAsync(NpgsqlConnection connection, string? afterUri, int limit, CancellationToken cancellationToken) =>
        ReadAsync(connection, null, $"{Select} WHERE e.deleted_at IS NULL AND e.uri > @after ORDER BY e.uri LIMIT @limit",
            cancellationToken, ("after", afterUri ?? ""), ("limit", limit));

    /// <summary>The live eprints among <paramref name="uris"/>, inside the caller's transaction.</summary>
    public static Task<List<IndexableEprintDocument>> ForUrisAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, IReadOnlyCollection<string> uris, CancellationToken cancellationToken) =>
        uris.Count == 0
            ? Task.FromResult(new List<IndexableEprintDocument>())
            : ReadAsync(connection, transaction, $"{Select} WHERE e.deleted_at IS NULL AND e.uri = ANY(@uris)", cancellationToken, ("uris", uris.ToArray()));

    /// <summary>Eprints written since <paramref name="since"/> (to index) and deleted since then (to remove).</summary>
    public static async Task<(List<IndexableEprintDocument> Live, List<string> Deleted)> ChangedSinceAsync(
        NpgsqlConnection connection, DateTimeOffset since, CancellationToken cancellationToken)
    {
        var live = await ReadAsync(connection, null,
            $"{Select} WHERE e.deleted_at IS NULL AND e.updated_at >= @since",
            cancellationToken, ("since", since));
        var deleted = new List<string>();
        await using var command = new NpgsqlCommand("SELECT uri FROM eprints_index WHERE deleted_at >= @since", connection);
        command.Parameters.AddWithValue("since", since);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            deleted.Add(reader.GetString(0));
        }

        return (live, deleted);
    }

    private static async Task<List<IndexableEprintDocument>> ReadAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        var documents = new List<IndexableEprintDocument>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var submittedBy = reader.GetString(7);
            var authors = IndexableEprintDocument.ParseAuthors(reader.GetString(5));
            var fields = JsonSerializer.Deserialize<List<SearchField>>(reader.GetString(6)) ?? [];
            documents.Add(new IndexableEprintDocument(
                Uri: reader.GetString(0),
                Cid: reader.GetString(1),
                Title: reader.GetString(2),
                Abstract: reader.IsDBNull(3) ? null : reader.GetString(3),
                Keywords: reader.GetFieldValue<string[]>(4),
                PrimaryAuthor: IndexableEprintDocument.Primary(authors, submittedBy),
                Authors: authors,
                Fields: fields,
                SubmittedBy: submittedBy,
                Doi: reader.IsDBNull(8) ? null : reader.GetString(8),
                License: reader.IsDBNull(9) ? null : reader.GetString(9),
                PdsUrl: reader.IsDBNull(10) ? null : reader.GetString(10),
                CreatedAt: reader.GetFieldValue<DateTimeOffset>(11),
                IndexedAt: reader.GetFieldValue<DateTimeOffset>(12)));
        }

        return documents;
    }
}
