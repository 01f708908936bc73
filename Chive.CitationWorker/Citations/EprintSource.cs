using Chive.AtProto.Identifiers;
using Npgsql;

namespace Chive.CitationWorker.Citations;

/// <summary>An eprint as citation extraction needs it: where its document is and what identifies it upstream.</summary>
public sealed record EprintToExtract(
    string Uri,
    Did Repo,
    string Title,
    string? DocumentBlobCid,
    string? DocumentMimeType,
    string? DocumentFormat,
    string? Doi,
    string? SemanticScholarId)
{
    /// <summary>What GROBID can read: a document whose MIME type (or, without one, format) says PDF.</summary>
    public bool HasPdf => DocumentBlobCid is not null
        && (DocumentMimeType is { } mime
            ? mime.Equals("application/pdf", StringComparison.OrdinalIgnoreCase)
            : DocumentFormat is null || DocumentFormat.Equals("pdf", StringComparison.OrdinalIgnoreCase));

    /// <summary>The id Semantic Scholar knows the eprint by: its DOI, else its S2 id (a CorpusId when numeric).</summary>
    public string? SemanticScholarPaperId => Doi is not null
        ? "DOI:" + Doi
        : SemanticScholarId is { Length: > 0 } id ? (id.All(char.IsAsciiDigit) ? "CorpusId:" + id : id) : null;
}

/// <summary>Live eprints in AT-URI order (keyset), from <c>eprints_index</c>.</summary>
public sealed class EprintSource(NpgsqlDataSource dataSource)
{
    private const string Columns = """
        uri, title, document_blob_cid, document_blob_mime_type, document_format,
        published_version ->> 'doi', coalesce(external_ids ->> 'semanticScholarId', external_ids ->> 's2Id')
        """;

    public async Task<List<EprintToExtract>> PageAsync(string? onlyUri, string? afterUri, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            SELECT {Columns} FROM eprints_index
            WHERE deleted_at IS NULL AND (@only::text IS NULL OR uri = @only) AND (@after::text IS NULL OR uri > @after)
            ORDER BY uri LIMIT @limit
            """);
        command.Parameters.AddWithValue("only", (object?)onlyUri ?? DBNull.Value);
        command.Parameters.AddWithValue("after", (object?)afterUri ?? DBNull.Value);
        command.Parameters.AddWithValue("limit", limit);
        var page = new List<EprintToExtract>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var uri = AtUri.Parse(reader.GetString(0));
            page.Add(new EprintToExtract(
                uri.Value,
                uri.Repo,
                reader.GetString(1),
                Text(reader, 2),
                Text(reader, 3),
                Text(reader, 4),
                Extraction.CitationIdentifiers.NormalizeDoi(Text(reader, 5)),
                Text(reader, 6)));
        }

        return page;
    }

    public async Task<long> CountAsync(string? onlyUri, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT count(*) FROM eprints_index WHERE deleted_at IS NULL AND (@only::text IS NULL OR uri = @only)");
        command.Parameters.AddWithValue("only", (object?)onlyUri ?? DBNull.Value);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static string? Text(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}
