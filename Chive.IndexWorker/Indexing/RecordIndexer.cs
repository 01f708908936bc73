using System.Text.Json;
using System.Text.Json.Nodes;
using Chive.AtProto.Identifiers;
using Chive.Contracts.Indexing;
using Npgsql;
using NpgsqlTypes;

namespace Chive.IndexWorker.Indexing;

/// <summary>What one batch did: records written (new or changed), unchanged (same CID: no write) and skipped, by reason.</summary>
public sealed record IndexOutcome(int Indexed, int Unchanged, IReadOnlyDictionary<string, int> Invalid, IReadOnlyList<string> ChangedEprints)
{
    public int InvalidCount => Invalid.Values.Sum();
}

/// <summary>What a sweep did: records marked deleted, and which of them were eprints (to remove from search).</summary>
public sealed record SweepOutcome(int Deleted, IReadOnlyList<string> DeletedEprints);

/// <summary>
/// Stores a batch of fetched records in one transaction: every valid <c>pub.chive.*</c> record into
/// <c>indexed_records</c> (upsert by AT-URI; a record whose CID is unchanged is not written at all), and each new or
/// changed <c>pub.chive.eprint.submission</c> into <c>eprints_index</c>. Invalid records are skipped and counted with
/// their reason; they never fail the batch.
/// </summary>
public sealed class RecordIndexer(NpgsqlDataSource dataSource)
{
    private const string UpsertRecords = """
        INSERT INTO indexed_records AS r (uri, cid, did, collection, rkey, record, pds_url)
        SELECT u, c, d, col, k, v, @pds FROM unnest(@uris, @cids, @dids, @collections, @rkeys, @records) AS t(u, c, d, col, k, v)
        ON CONFLICT (uri) DO UPDATE SET
            cid = EXCLUDED.cid, record = EXCLUDED.record, pds_url = EXCLUDED.pds_url,
            updated_at = now(), last_synced_at = now(), deleted_at = NULL, deletion_source = NULL
        WHERE r.cid IS DISTINCT FROM EXCLUDED.cid OR r.deleted_at IS NOT NULL
        RETURNING uri
        """;

    private const string UpsertEprint = """
        INSERT INTO eprints_index AS e (uri, cid, submitted_by, paper_did, authors, title, abstract, abstract_plain_text,
            document_blob_cid, document_blob_mime_type, document_blob_size, document_format, publication_status,
            published_version, external_ids, related_works, repositories, funding, conference_presentation,
            supplementary_materials, keywords, fields, version, previous_version_uri, license, license_uri, created_at, pds_url)
        VALUES (@uri, @cid, @submitted_by, @paper_did, @authors, @title, @abstract, @abstract_plain_text,
            @document_blob_cid, @document_blob_mime_type, @document_blob_size, @document_format, @publication_status,
            @published_version, @external_ids, @related_works, @repositories, @funding, @conference_presentation,
            @supplementary_materials, @keywords, @fields, @version,
            (SELECT p.uri FROM eprints_index p WHERE p.uri = @previous_version_uri), @license, @license_uri, @created_at, @pds)
        ON CONFLICT (uri) DO UPDATE SET
            cid = EXCLUDED.cid, submitted_by = EXCLUDED.submitted_by, paper_did = EXCLUDED.paper_did, authors = EXCLUDED.authors,
            title = EXCLUDED.title, abstract = EXCLUDED.abstract, abstract_plain_text = EXCLUDED.abstract_plain_text,
            document_blob_cid = EXCLUDED.document_blob_cid, document_blob_mime_type = EXCLUDED.document_blob_mime_type,
            document_blob_size = EXCLUDED.document_blob_size, document_format = EXCLUDED.document_format,
            publication_status = EXCLUDED.publication_status, published_version = EXCLUDED.published_version,
            external_ids = EXCLUDED.external_ids, related_works = EXCLUDED.related_works, repositories = EXCLUDED.repositories,
            funding = EXCLUDED.funding, conference_presentation = EXCLUDED.conference_presentation,
            supplementary_materials = EXCLUDED.supplementary_materials, keywords = EXCLUDED.keywords, fields = EXCLUDED.fields,
            version = EXCLUDED.version, previous_version_uri = EXCLUDED.previous_version_uri, license = EXCLUDED.license,
            license_uri = EXCLUDED.license_uri, created_at = EXCLUDED.created_at, pds_url = EXCLUDED.pds_url,
            updated_at = now(), last_synced_at = now(), deleted_at = NULL, deletion_source = NULL
        """;

    public async Task<IndexOutcome> IndexAsync(string pdsUrl, IReadOnlyList<FetchedRecord> records, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var outcome = await IndexAsync(connection, transaction, pdsUrl, records, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return outcome;
    }

    /// <summary>The same, inside the caller's transaction (the caller commits).</summary>
    public async Task<IndexOutcome> IndexAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string pdsUrl, IReadOnlyList<FetchedRecord> records, CancellationToken cancellationToken)
    {
        var invalid = new Dictionary<string, int>();
        var valid = new List<(AtUri Uri, Cid Cid, JsonObject Value, string Raw, EprintRow? Eprint)>();
        foreach (var record in records)
        {
            if (Validate(record, out var parsed) is { } reason)
            {
                invalid[reason] = invalid.GetValueOrDefault(reason) + 1;
                continue;
            }

            valid.Add(parsed);
        }

        var changed = new HashSet<string>(StringComparer.Ordinal);
        if (valid.Count > 0)
        {
            await using var upsert = new NpgsqlCommand(UpsertRecords, connection, transaction);
            upsert.Parameters.AddWithValue("pds", pdsUrl);
            upsert.Parameters.AddWithValue("uris", valid.Select(v => v.Uri.Value).ToArray());
            upsert.Parameters.AddWithValue("cids", valid.Select(v => v.Cid.Value).ToArray());
            upsert.Parameters.AddWithValue("dids", valid.Select(v => v.Uri.Repo.Value).ToArray());
            upsert.Parameters.AddWithValue("collections", valid.Select(v => v.Uri.Collection.Value).ToArray());
            upsert.Parameters.AddWithValue("rkeys", valid.Select(v => v.Uri.RecordKey.Value).ToArray());
            upsert.Parameters.Add(new NpgsqlParameter("records", NpgsqlDbType.Array | NpgsqlDbType.Jsonb) { Value = valid.Select(v => v.Raw).ToArray() });
            await using var reader = await upsert.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                changed.Add(reader.GetString(0));
            }
        }

        var eprints = valid.Where(v => v.Eprint is not null && changed.Contains(v.Uri.Value)).Select(v => v.Eprint!).ToList();
        if (eprints.Count > 0)
        {
            await using var batch = new NpgsqlBatch(connection, transaction);
            foreach (var eprint in eprints.OrderBy(e => e.Version))
            {
                batch.BatchCommands.Add(EprintCommand(eprint, pdsUrl));
            }

            await batch.ExecuteNonQueryAsync(cancellationToken);
        }

        return new IndexOutcome(changed.Count, valid.Count - changed.Count, invalid, eprints.Select(e => e.Uri).ToList());
    }

    /// <summary>
    /// Marks deleted (source <c>scan_missing</c>) every live record of <paramref name="collection"/> in
    /// <paramref name="did"/>'s repo whose key is not in <paramref name="presentRkeys"/> and that was last written before
    /// <paramref name="listedFrom"/> (a record written after the listing began may simply be newer than it), and the
    /// eprints among them.
    /// </summary>
    public static async Task<SweepOutcome> SweepAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string did, string collection,
        IReadOnlyList<string> presentRkeys, DateTimeOffset listedFrom, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            WITH gone AS (
                UPDATE indexed_records SET deleted_at = now(), deletion_source = 'scan_missing'
                WHERE did = @did AND collection = @collection AND deleted_at IS NULL
                  AND NOT (rkey = ANY(@present)) AND updated_at < @listedFrom
                RETURNING uri),
            eprints AS (
                UPDATE eprints_index e SET deleted_at = now(), deletion_source = 'scan_missing'
                FROM gone WHERE e.uri = gone.uri AND e.deleted_at IS NULL
                RETURNING e.uri)
            SELECT (SELECT count(*) FROM gone)::int, coalesce((SELECT array_agg(uri) FROM eprints), '{}')
            """, connection, transaction);
        command.Parameters.AddWithValue("did", did);
        command.Parameters.AddWithValue("collection", collection);
        command.Parameters.AddWithValue("present", presentRkeys.ToArray());
        command.Parameters.AddWithValue("listedFrom", listedFrom);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new SweepOutcome(reader.GetInt32(0), reader.GetFieldValue<string[]>(1));
    }

    /// <summary>Null when the record can be indexed; otherwise the reason it is skipped.</summary>
    private static string? Validate(FetchedRecord record, out (AtUri, Cid, JsonObject, string, EprintRow?) parsed)
    {
        parsed = default;
        if (!AtUri.TryParse(record.Uri, out var uri, out _))
        {
            return "invalid AT-URI";
        }

        if (!uri.Collection.IsInNamespace("pub.chive"))
        {
            return "not a pub.chive record";
        }

        if (!Cid.TryParse(record.Cid, out var cid, out _))
        {
            return "invalid CID";
        }

        JsonObject? value;
        try
        {
            value = JsonNode.Parse(record.Value) as JsonObject;
        }
        catch (JsonException)
        {
            value = null;
        }

        if (value is null)
        {
            return "value is not a JSON object";
        }

        EprintRow? eprint = null;
        if (uri.Collection.Value == EprintProjection.Collection)
        {
            var (row, why) = EprintProjection.Project(uri, cid.Value, value);
            if (row is null)
            {
                return $"submission: {why}";
            }

            eprint = row;
        }

        parsed = (uri, cid, value, record.Value, eprint);
        return null;
    }

    private static NpgsqlBatchCommand EprintCommand(EprintRow e, string pdsUrl)
    {
        var command = new NpgsqlBatchCommand(UpsertEprint);
        void Add(string name, object? value, NpgsqlDbType? type = null)
        {
            var parameter = type is { } t ? new NpgsqlParameter(name, t) : new NpgsqlParameter(name, value ?? DBNull.Value);
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }

        Add("uri", e.Uri);
        Add("cid", e.Cid);
        Add("submitted_by", e.SubmittedBy);
        Add("paper_did", e.PaperDid, NpgsqlDbType.Text);
        Add("authors", e.Authors, NpgsqlDbType.Jsonb);
        Add("title", e.Title);
        Add("abstract", e.Abstract, NpgsqlDbType.Jsonb);
        Add("abstract_plain_text", e.AbstractPlainText, NpgsqlDbType.Text);
        Add("document_blob_cid", e.DocumentBlobCid, NpgsqlDbType.Text);
        Add("document_blob_mime_type", e.DocumentBlobMimeType, NpgsqlDbType.Text);
        Add("document_blob_size", e.DocumentBlobSize, NpgsqlDbType.Bigint);
        Add("document_format", e.DocumentFormat);
        Add("publication_status", e.PublicationStatus, NpgsqlDbType.Text);
        Add("published_version", e.PublishedVersion, NpgsqlDbType.Jsonb);
        Add("external_ids", e.ExternalIds, NpgsqlDbType.Jsonb);
        Add("related_works", e.RelatedWorks, NpgsqlDbType.Jsonb);
        Add("repositories", e.Repositories, NpgsqlDbType.Jsonb);
        Add("funding", e.Funding, NpgsqlDbType.Jsonb);
        Add("conference_presentation", e.ConferencePresentation, NpgsqlDbType.Jsonb);
        Add("supplementary_materials", e.SupplementaryMaterials, NpgsqlDbType.Jsonb);
        Add("keywords", e.Keywords, NpgsqlDbType.Array | NpgsqlDbType.Text);
        Add("fields", e.Fields, NpgsqlDbType.Jsonb);
        Add("version", e.Version);
        Add("previous_version_uri", e.PreviousVersionUri, NpgsqlDbType.Text);
        Add("license", e.License);
        Add("license_uri", e.LicenseUri, NpgsqlDbType.Text);
        Add("created_at", e.CreatedAt);
        Add("pds", pdsUrl);
        return command;
    }
}
