using System.Text.Json;
using System.Text.Json.Nodes;
using Chive.AtProto.Data;
using Chive.AtProto.Identifiers;
using Chive.Contracts.Indexing;
using Chive.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Chive.IndexWorker.Indexing;

/// <summary>
/// What one batch did: records written (new or changed; <see cref="Added"/> of them new), unchanged (same CID: no
/// write) and rejected, by reason, with the rejected records themselves (for <c>record_rejections</c> and the log).
/// </summary>
public sealed record IndexOutcome(
    int Indexed, int Unchanged, IReadOnlyDictionary<string, int> Invalid, IReadOnlyList<string> ChangedEprints, IReadOnlyList<Rejection> Rejected, int Added = 0)
{
    /// <summary>A batch without records (only sweeps).</summary>
    public static readonly IndexOutcome Nothing = new(0, 0, new Dictionary<string, int>(), [], []);

    public int InvalidCount => Invalid.Values.Sum();
}

/// <summary>A record that could not be indexed, and why.</summary>
public sealed record Rejection(string Uri, string Cid, string Reason);

/// <summary>What a sweep did: records marked deleted, and which of them were eprints (to remove from search).</summary>
public sealed record SweepOutcome(int Deleted, IReadOnlyList<string> DeletedEprints);

/// <summary>
/// Stores a batch of fetched records in one transaction: every valid <c>pub.chive.*</c> record into
/// <c>indexed_records</c> (upsert by AT-URI; a record whose CID is unchanged is not written at all), and each new or
/// changed <c>pub.chive.eprint.submission</c> into <c>eprints_index</c>.
/// <para>
/// One record is one record's problem. Each is checked before anything touches it (<see cref="RecordValues"/>: not
/// storable JSON, too deep, duplicate keys, NUL, unpaired surrogates; then the projection, which reads every field
/// by its JSON kind), and a record that fails is rejected with its reason — counted, logged, kept in
/// <c>record_rejections</c> — never failing the batch. Should PostgreSQL still refuse a value (a data error, not an
/// outage), the batch is written again record by record, each in its own savepoint, so only the refused record is
/// rejected; errors of the server itself are left to the batch's retry.
/// </para>
/// </summary>
public sealed class RecordIndexer(NpgsqlDataSource dataSource, ILogger<RecordIndexer> logger)
{
    /// <summary>Rejected records logged one by one per batch, at most (the rest are counted).</summary>
    private const int MaxLoggedRejections = 20;

    private const string UpsertRecords = """
        INSERT INTO indexed_records AS r (uri, cid, did, collection, rkey, record, pds_url)
        SELECT u, c, d, col, k, v, @pds FROM unnest(@uris, @cids, @dids, @collections, @rkeys, @records) AS t(u, c, d, col, k, v)
        ON CONFLICT (uri) DO UPDATE SET
            cid = EXCLUDED.cid, record = EXCLUDED.record, pds_url = EXCLUDED.pds_url,
            updated_at = now(), last_synced_at = now(), deleted_at = NULL, deletion_source = NULL
        WHERE r.cid IS DISTINCT FROM EXCLUDED.cid OR r.deleted_at IS NOT NULL
        RETURNING uri, (xmax = 0) AS inserted
        """;

    /// <summary>
    /// The batch's new or changed submissions, in one statement (one array a column). A previous version is kept only when
    /// it is indexed — already, or in this same statement (which a subquery of the table cannot see) — and is not the
    /// eprint itself; the foreign key is checked at commit.
    /// </summary>
    private const string UpsertEprints = """
        WITH input AS (
            SELECT * FROM unnest(@uri, @cid, @submitted_by, @paper_did, @authors, @title, @abstract, @abstract_plain_text,
                @document_blob_cid, @document_blob_mime_type, @document_blob_size, @document_format, @publication_status,
                @published_version, @external_ids, @related_works, @repositories, @funding, @conference_presentation,
                @supplementary_materials, @keywords, @fields, @version, @previous_version_uri, @license, @license_uri, @created_at)
            AS t(uri, cid, submitted_by, paper_did, authors, title, abstract, abstract_plain_text,
                document_blob_cid, document_blob_mime_type, document_blob_size, document_format, publication_status,
                published_version, external_ids, related_works, repositories, funding, conference_presentation,
                supplementary_materials, keywords, fields, version, previous_version_uri, license, license_uri, created_at))
        INSERT INTO eprints_index AS e (uri, cid, submitted_by, paper_did, authors, title, abstract, abstract_plain_text,
            document_blob_cid, document_blob_mime_type, document_blob_size, document_format, publication_status,
            published_version, external_ids, related_works, repositories, funding, conference_presentation,
            supplementary_materials, keywords, fields, version, previous_version_uri, license, license_uri, created_at, pds_url)
        SELECT i.uri, i.cid, i.submitted_by, i.paper_did, i.authors, i.title, i.abstract, i.abstract_plain_text,
            i.document_blob_cid, i.document_blob_mime_type, i.document_blob_size, i.document_format, i.publication_status,
            i.published_version, i.external_ids, i.related_works, i.repositories, i.funding, i.conference_presentation,
            i.supplementary_materials, ARRAY(SELECT k FROM jsonb_array_elements_text(i.keywords) WITH ORDINALITY AS w(k, n) ORDER BY n), i.fields, i.version,
            coalesce((SELECT p.uri FROM eprints_index p WHERE p.uri = i.previous_version_uri AND p.uri <> i.uri),
                     (SELECT q.uri FROM input q WHERE q.uri = i.previous_version_uri AND q.uri <> i.uri)),
            i.license, i.license_uri, i.created_at, @pds
        FROM input i
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

    /// <summary>
    /// The citations users declare themselves (<c>pub.chive.eprint.citation</c>: <c>eprintUri</c>, <c>citedWork {title, doi,
    /// arxivId, authors, year, venue}</c>, <c>citationType</c>, <c>context</c>) as <c>user-provided</c> rows of
    /// <c>extracted_citations</c>, keyed by the record's URI — the rows citation extraction never touches. Projected in
    /// SQL from the stored record, each field by its JSON kind (another kind is absent) and capped; a record without an
    /// AT-URI <c>eprintUri</c> or a <c>citedWork</c> object gets no row.
    /// </summary>
    private const string InsertUserCitations = """
        INSERT INTO extracted_citations AS c (eprint_uri, title, doi, arxiv_id, authors, year, venue, source, sources, confidence,
            citation_type, context, user_record_uri, curator_did)
        SELECT left(r.record ->> 'eprintUri', 2000),
               CASE WHEN jsonb_typeof(w -> 'title') = 'string' THEN left(w ->> 'title', 1000) END,
               CASE WHEN jsonb_typeof(w -> 'doi') = 'string' THEN lower(left(w ->> 'doi', 300)) END,
               CASE WHEN jsonb_typeof(w -> 'arxivId') = 'string' THEN left(w ->> 'arxivId', 100) END,
               CASE WHEN jsonb_typeof(w -> 'authors') = 'array' AND jsonb_array_length(w -> 'authors') <= 50 THEN w -> 'authors' END,
               CASE WHEN jsonb_typeof(w -> 'year') = 'number' AND (w ->> 'year') ~ '^[0-9]{4}$' THEN (w ->> 'year')::int END,
               CASE WHEN jsonb_typeof(w -> 'venue') = 'string' THEN left(w ->> 'venue', 500) END,
               'user-provided', '{user-provided}', 1,
               CASE WHEN jsonb_typeof(r.record -> 'citationType') = 'string' THEN left(r.record ->> 'citationType', 100) END,
               CASE WHEN jsonb_typeof(r.record -> 'context') = 'string' THEN left(r.record ->> 'context', 1000) END,
               r.uri, r.did
        FROM indexed_records r, LATERAL (SELECT r.record -> 'citedWork' AS w) cited
        WHERE r.uri = ANY(@uris) AND r.collection = 'pub.chive.eprint.citation'
          AND jsonb_typeof(r.record -> 'eprintUri') = 'string' AND r.record ->> 'eprintUri' LIKE 'at://%' AND jsonb_typeof(w) = 'object'
        """;

    public const string UserCitationCollection = "pub.chive.eprint.citation";

    public async Task<IndexOutcome> IndexAsync(string pdsUrl, IReadOnlyList<FetchedRecord> records, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var outcome = await IndexAsync(connection, transaction, pdsUrl, records, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return outcome;
    }

    /// <summary>
    /// The same, inside the caller's transaction (the caller commits). A rejection is noted with
    /// <paramref name="operationId"/>, the run that saw it (its detail view lists it).
    /// </summary>
    public async Task<IndexOutcome> IndexAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string pdsUrl, IReadOnlyList<FetchedRecord> records, CancellationToken cancellationToken,
        Guid? operationId = null)
    {
        var rejected = new List<Rejection>();
        var valid = new Dictionary<string, ValidRecord>(StringComparer.Ordinal);
        foreach (var record in records)
        {
            var (checkedRecord, reason) = Check(record);
            if (checkedRecord is not null)
            {
                valid[checkedRecord.Uri.Value] = checkedRecord; // a URI listed twice: the last listing wins, stored once
            }
            else
            {
                rejected.Add(new Rejection(record.Uri, record.Cid, reason!));
            }
        }

        var stored = valid.Values.ToList();
        HashSet<string> changed, added;
        await transaction.SaveAsync("batch", cancellationToken);
        try
        {
            (changed, added) = await UpsertAsync(connection, transaction, pdsUrl, stored, cancellationToken);
            await transaction.ReleaseAsync("batch", cancellationToken);
        }
        catch (PostgresException ex) when (PostgresErrors.IsDataError(ex))
        {
            logger.LogWarning("PostgreSQL refused a value in a batch of {Count} records from {Pds} ({Error}): writing them one by one",
                stored.Count, pdsUrl, ex.MessageText);
            await transaction.RollbackAsync("batch", cancellationToken);
            changed = [];
            added = [];
            var kept = new List<ValidRecord>();
            foreach (var record in stored)
            {
                await transaction.SaveAsync("record", cancellationToken);
                try
                {
                    var (oneChanged, oneAdded) = await UpsertAsync(connection, transaction, pdsUrl, [record], cancellationToken);
                    changed.UnionWith(oneChanged);
                    added.UnionWith(oneAdded);
                    await transaction.ReleaseAsync("record", cancellationToken);
                    kept.Add(record);
                }
                catch (PostgresException one) when (PostgresErrors.IsDataError(one))
                {
                    await transaction.RollbackAsync("record", cancellationToken);
                    rejected.Add(new Rejection(record.Uri.Value, record.Cid.Value, $"refused by PostgreSQL: {one.MessageText}"));
                }
            }

            stored = kept;
        }

        await RecordRejectionsAsync(connection, transaction, pdsUrl, stored, rejected, operationId, cancellationToken);
        var invalid = rejected.GroupBy(r => r.Reason, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var eprints = stored.Where(v => v.Eprint is not null && changed.Contains(v.Uri.Value)).Select(v => v.Uri.Value).ToList();
        return new IndexOutcome(changed.Count, stored.Count - changed.Count, invalid, eprints, rejected, added.Count);
    }

    /// <summary>Upserts the records and projects the new or changed submissions; returns the URIs written, and which were new.</summary>
    private static async Task<(HashSet<string> Changed, HashSet<string> Added)> UpsertAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string pdsUrl, IReadOnlyList<ValidRecord> valid, CancellationToken cancellationToken)
    {
        var changed = new HashSet<string>(StringComparer.Ordinal);
        var added = new HashSet<string>(StringComparer.Ordinal);
        if (valid.Count == 0)
        {
            return (changed, added);
        }

        await using (var upsert = new NpgsqlCommand(UpsertRecords, connection, transaction))
        {
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
                if (reader.GetBoolean(1))
                {
                    added.Add(reader.GetString(0));
                }
            }
        }

        var eprints = valid.Where(v => v.Eprint is not null && changed.Contains(v.Uri.Value)).Select(v => v.Eprint!).ToList();
        if (eprints.Count > 0)
        {
            await using var upsert = EprintsCommand(eprints, pdsUrl, connection, transaction);
            await upsert.ExecuteNonQueryAsync(cancellationToken);
        }

        var citations = valid.Where(v => v.Uri.Collection.Value == UserCitationCollection && changed.Contains(v.Uri.Value)).Select(v => v.Uri.Value).ToArray();
        if (citations.Length > 0)
        {
            // Replaced as a whole: a record changed into one that no longer qualifies leaves no row behind.
            await using var project = new NpgsqlBatch(connection, transaction)
            {
                BatchCommands =
                {
                    new NpgsqlBatchCommand("DELETE FROM extracted_citations WHERE user_record_uri = ANY(@uris)") { Parameters = { new("uris", citations) } },
                    new NpgsqlBatchCommand(InsertUserCitations) { Parameters = { new("uris", citations) } },
                },
            };
            await project.ExecuteNonQueryAsync(cancellationToken);
        }

        return (changed, added);
    }

    /// <summary>
    /// Keeps <c>record_rejections</c> true: the rejected records with their latest reason, and no row for a record that
    /// now indexed cleanly. Each rejection is logged (up to <see cref="MaxLoggedRejections"/> per batch).
    /// </summary>
    private async Task RecordRejectionsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string pdsUrl, IReadOnlyList<ValidRecord> stored,
        IReadOnlyList<Rejection> rejected, Guid? operationId, CancellationToken cancellationToken)
    {
        foreach (var rejection in rejected.Take(MaxLoggedRejections))
        {
            logger.LogWarning("Rejected {Uri} from {Pds}: {Reason}", rejection.Uri, pdsUrl, rejection.Reason);
        }

        var attributable = rejected
            .Select(r => (Rejection: r, Uri: AtUri.TryParse(r.Uri, out var uri, out _) ? uri : null))
            .Where(r => r.Uri is not null)
            .GroupBy(r => r.Uri!.Value, StringComparer.Ordinal).Select(g => g.Last())
            .ToList();
        await using var batch = new NpgsqlBatch(connection, transaction);
        if (stored.Count > 0)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand("DELETE FROM record_rejections WHERE uri = ANY(@uris)")
            {
                Parameters = { new("uris", stored.Select(v => v.Uri.Value).ToArray()) },
            });
        }

        if (attributable.Count > 0)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand("""
                INSERT INTO record_rejections AS j (uri, did, collection, cid, reason, pds_url, operation_id)
                SELECT u, d, c, cid, r, @pds, @op FROM unnest(@uris, @dids, @collections, @cids, @reasons) AS t(u, d, c, cid, r)
                ON CONFLICT (uri) DO UPDATE SET cid = EXCLUDED.cid, reason = EXCLUDED.reason, pds_url = EXCLUDED.pds_url,
                    operation_id = EXCLUDED.operation_id, last_seen_at = now()
                """)
            {
                Parameters =
                {
                    new("pds", pdsUrl),
                    new("op", NpgsqlTypes.NpgsqlDbType.Uuid) { Value = (object?)operationId ?? DBNull.Value },
                    new("uris", attributable.Select(r => r.Uri!.Value).ToArray()),
                    new("dids", attributable.Select(r => r.Uri!.Repo.Value).ToArray()),
                    new("collections", attributable.Select(r => r.Uri!.Collection.Value).ToArray()),
                    new("cids", attributable.Select(r => Clean(r.Rejection.Cid, 200)).ToArray()),
                    new("reasons", attributable.Select(r => Clean(r.Rejection.Reason, 1000)).ToArray()),
                },
            });
        }

        if (batch.BatchCommands.Count > 0)
        {
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Marks deleted (with <paramref name="deletionSource"/>: <c>scan_missing</c> for a scan, <c>pds_404</c> for a freshness
    /// scan, <c>takedown</c> or <c>account_deleted</c> for a repo gone as a whole) every live record of
    /// <paramref name="collection"/> (null: of every collection) in <paramref name="did"/>'s repo whose key is not in
    /// <paramref name="presentRkeys"/> and that was last written before <paramref name="listedFrom"/> (a record written
    /// after the listing began may simply be newer than it; null: whenever), and the eprints among them.
    /// </summary>
    public static Task<SweepOutcome> SweepAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string did, string? collection,
        IReadOnlyList<string> presentRkeys, DateTimeOffset? listedFrom, CancellationToken cancellationToken, string deletionSource = SweepCollection.ScanMissing) =>
        RunSweepsAsync(connection, transaction, [SweepCommand(did, collection, presentRkeys, listedFrom, deletionSource)], cancellationToken);

    /// <summary>The sweeps a batch carries, in one round trip; what they marked deleted, together.</summary>
    public static Task<SweepOutcome> SweepAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<CollectionSweep> sweeps, CancellationToken cancellationToken) =>
        RunSweepsAsync(connection, transaction,
            sweeps.Select(s => SweepCommand(s.Did, s.Collection, s.PresentRkeys, s.ListedFrom, s.DeletionSource)).ToList(), cancellationToken);

    /// <summary>
    /// One sweep's statement. The keys still present are a hashed set (<c>NOT IN</c> over the unnested array): written
    /// <c>NOT (rkey = ANY(@present))</c>, a prepared statement's generic plan compared every record of the collection
    /// with every present key — 2 ms for 500 records (against 0.3), and quadratic in the size of a collection.
    /// </summary>
    private static NpgsqlBatchCommand SweepCommand(string did, string? collection, IReadOnlyList<string> presentRkeys, DateTimeOffset? listedFrom, string deletionSource) =>
        new("""
            WITH gone AS (
                UPDATE indexed_records SET deleted_at = now(), deletion_source = @source
                WHERE did = @did AND (@collection::text IS NULL OR collection = @collection) AND deleted_at IS NULL
                  AND rkey NOT IN (SELECT unnest(@present::text[])) AND (@listedFrom::timestamptz IS NULL OR updated_at < @listedFrom)
                RETURNING uri),
            eprints AS (
                UPDATE eprints_index e SET deleted_at = now(), deletion_source = @source
                FROM gone WHERE e.uri = gone.uri AND e.deleted_at IS NULL
                RETURNING e.uri),
            declared AS (
                DELETE FROM extracted_citations c USING gone WHERE c.user_record_uri = gone.uri)
            SELECT (SELECT count(*) FROM gone)::int, coalesce((SELECT array_agg(uri) FROM eprints), '{}')
            """)
        {
            Parameters =
            {
                new("did", did),
                new("collection", NpgsqlDbType.Text) { Value = (object?)collection ?? DBNull.Value },
                new("present", presentRkeys.ToArray()),
                new("listedFrom", NpgsqlDbType.TimestampTz) { Value = (object?)listedFrom ?? DBNull.Value },
                new("source", deletionSource),
            },
        };

    private static async Task<SweepOutcome> RunSweepsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<NpgsqlBatchCommand> sweeps, CancellationToken cancellationToken)
    {
        if (sweeps.Count == 0)
        {
            return new SweepOutcome(0, []);
        }

        await using var batch = new NpgsqlBatch(connection, transaction);
        foreach (var sweep in sweeps)
        {
            batch.BatchCommands.Add(sweep);
        }

        var deleted = 0;
        var eprints = new List<string>();
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        do
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                deleted += reader.GetInt32(0);
                eprints.AddRange(reader.GetFieldValue<string[]>(1));
            }
        }
        while (await reader.NextResultAsync(cancellationToken));

        return new SweepOutcome(deleted, eprints);
    }

    private sealed record ValidRecord(AtUri Uri, Cid Cid, string Raw, EprintRow? Eprint);

    /// <summary>The record, checked and projected — or why it cannot be indexed.</summary>
    private static (ValidRecord? Record, string? Reason) Check(FetchedRecord record)
    {
        if (record.Problem is { } problem)
        {
            return (null, problem);
        }

        if (!AtUri.TryParse(record.Uri, out var uri, out _))
        {
            return (null, "invalid AT-URI");
        }

        if (!uri.Collection.IsInNamespace("pub.chive"))
        {
            return (null, "not a pub.chive record");
        }

        if (!Cid.TryParse(record.Cid, out var cid, out _))
        {
            return (null, "invalid CID");
        }

        if (RecordValues.Problem(record.Value) is { } unstorable)
        {
            return (null, unstorable);
        }

        // Checked to be a JSON object above; only a submission is read further (its projection).
        EprintRow? eprint = null;
        if (uri.Collection.Value == EprintProjection.Collection)
        {
            if (JsonNode.Parse(record.Value, documentOptions: new JsonDocumentOptions { MaxDepth = RecordValues.MaxDepth }) is not JsonObject value)
            {
                return (null, "value is not a JSON object");
            }

            var (row, why) = EprintProjection.Project(uri, cid.Value, value);
            if (row is null)
            {
                return (null, $"submission: {why}");
            }

            eprint = row;
        }

        return (new ValidRecord(uri, cid, record.Value, eprint), null);
    }

    private static string Clean(string text, int max)
    {
        var clean = new string(text.Where(c => c != '\0' && !char.IsSurrogate(c)).Take(max).ToArray());
        return clean;
    }

    private static NpgsqlCommand EprintsCommand(IReadOnlyList<EprintRow> eprints, string pdsUrl, NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        var command = new NpgsqlCommand(UpsertEprints, connection, transaction);
        void Add<T>(string name, NpgsqlDbType type, Func<EprintRow, T> column) =>
            command.Parameters.Add(new NpgsqlParameter(name, NpgsqlDbType.Array | type) { Value = eprints.Select(column).ToArray() });

        Add("uri", NpgsqlDbType.Text, e => e.Uri);
        Add("cid", NpgsqlDbType.Text, e => e.Cid);
        Add("submitted_by", NpgsqlDbType.Text, e => e.SubmittedBy);
        Add("paper_did", NpgsqlDbType.Text, e => e.PaperDid);
        Add("authors", NpgsqlDbType.Jsonb, e => e.Authors);
        Add("title", NpgsqlDbType.Text, e => e.Title);
        Add("abstract", NpgsqlDbType.Jsonb, e => e.Abstract);
        Add("abstract_plain_text", NpgsqlDbType.Text, e => e.AbstractPlainText);
        Add("document_blob_cid", NpgsqlDbType.Text, e => e.DocumentBlobCid);
        Add("document_blob_mime_type", NpgsqlDbType.Text, e => e.DocumentBlobMimeType);
        Add("document_blob_size", NpgsqlDbType.Bigint, e => e.DocumentBlobSize);
        Add("document_format", NpgsqlDbType.Text, e => e.DocumentFormat);
        Add("publication_status", NpgsqlDbType.Text, e => e.PublicationStatus);
        Add("published_version", NpgsqlDbType.Jsonb, e => e.PublishedVersion);
        Add("external_ids", NpgsqlDbType.Jsonb, e => e.ExternalIds);
        Add("related_works", NpgsqlDbType.Jsonb, e => e.RelatedWorks);
        Add("repositories", NpgsqlDbType.Jsonb, e => e.Repositories);
        Add("funding", NpgsqlDbType.Jsonb, e => e.Funding);
        Add("conference_presentation", NpgsqlDbType.Jsonb, e => e.ConferencePresentation);
        Add("supplementary_materials", NpgsqlDbType.Jsonb, e => e.SupplementaryMaterials);
        // A text[] a row cannot go through unnest (arrays of arrays must be rectangular): each row's list as a JSON array.
        Add("keywords", NpgsqlDbType.Jsonb, e => JsonSerializer.Serialize(e.Keywords));
        Add("fields", NpgsqlDbType.Jsonb, e => e.Fields);
        Add("version", NpgsqlDbType.Integer, e => e.Version);
        Add("previous_version_uri", NpgsqlDbType.Text, e => e.PreviousVersionUri);
        Add("license", NpgsqlDbType.Text, e => e.License);
        Add("license_uri", NpgsqlDbType.Text, e => e.LicenseUri);
        Add("created_at", NpgsqlDbType.TimestampTz, e => e.CreatedAt);
        command.Parameters.AddWithValue("pds", pdsUrl);
        return command;
    }
}
