using System.Text.Json;
using Chive.AtProto.Data;
using Chive.AtProto.Xrpc;
using Chive.Contracts.GovernanceSync;
using Chive.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Chive.ScanWorker.GovernanceSync;

/// <summary>The governance graph in PostgreSQL: one page of records upserted in one statement, and the end-of-sync sweep.</summary>
public sealed class GovernanceGraphStore(NpgsqlDataSource dataSource)
{
    private const string UpsertNodes = """
        INSERT INTO governance_nodes AS n (uri, cid, id, slug, kind, subkind, subkind_uri, label, alternate_labels, description,
            external_ids, metadata, status, deprecated_by, proposal_uri, created_by, record_created_at, record_updated_at, record, sync_operation_id)
        SELECT u, c, r->>'id', r->>'slug', r->>'kind', r->>'subkind', r->>'subkindUri', r->>'label', r->'alternateLabels', r->>'description',
            r->'externalIds', r->'metadata', r->>'status', r->>'deprecatedBy', r->>'proposalUri', r->>'createdBy',
            chive_try_timestamptz(r->>'createdAt'), chive_try_timestamptz(r->>'updatedAt'), r, @op
        FROM unnest(@uris, @cids, @records) AS t(u, c, r)
        ON CONFLICT (uri) DO UPDATE SET
            sync_operation_id = EXCLUDED.sync_operation_id,
            cid = EXCLUDED.cid, id = EXCLUDED.id, slug = EXCLUDED.slug, kind = EXCLUDED.kind, subkind = EXCLUDED.subkind,
            subkind_uri = EXCLUDED.subkind_uri, label = EXCLUDED.label, alternate_labels = EXCLUDED.alternate_labels,
            description = EXCLUDED.description, external_ids = EXCLUDED.external_ids, metadata = EXCLUDED.metadata,
            status = EXCLUDED.status, deprecated_by = EXCLUDED.deprecated_by, proposal_uri = EXCLUDED.proposal_uri,
            created_by = EXCLUDED.created_by, record_created_at = EXCLUDED.record_created_at,
            record_updated_at = EXCLUDED.record_updated_at, record = EXCLUDED.record,
            updated_at = CASE WHEN n.cid IS DISTINCT FROM EXCLUDED.cid THEN now() ELSE n.updated_at END
        """;

    private const string UpsertEdges = """
        INSERT INTO governance_edges AS e (uri, cid, id, source_uri, target_uri, relation_uri, relation_slug, weight, metadata,
            status, proposal_uri, created_by, record_created_at, record_updated_at, record, sync_operation_id)
        SELECT u, c, r->>'id', r->>'sourceUri', r->>'targetUri', r->>'relationUri', r->>'relationSlug',
            CASE WHEN jsonb_typeof(r->'weight') = 'number' AND (r->>'weight')::numeric BETWEEN -2147483648 AND 2147483647
                 THEN round((r->>'weight')::numeric)::integer END, r->'metadata',
            r->>'status', r->>'proposalUri', r->>'createdBy',
            chive_try_timestamptz(r->>'createdAt'), chive_try_timestamptz(r->>'updatedAt'), r, @op
        FROM unnest(@uris, @cids, @records) AS t(u, c, r)
        ON CONFLICT (uri) DO UPDATE SET
            sync_operation_id = EXCLUDED.sync_operation_id,
            cid = EXCLUDED.cid, id = EXCLUDED.id, source_uri = EXCLUDED.source_uri, target_uri = EXCLUDED.target_uri,
            relation_uri = EXCLUDED.relation_uri, relation_slug = EXCLUDED.relation_slug, weight = EXCLUDED.weight,
            metadata = EXCLUDED.metadata, status = EXCLUDED.status, proposal_uri = EXCLUDED.proposal_uri,
            created_by = EXCLUDED.created_by, record_created_at = EXCLUDED.record_created_at,
            record_updated_at = EXCLUDED.record_updated_at, record = EXCLUDED.record,
            updated_at = CASE WHEN e.cid IS DISTINCT FROM EXCLUDED.cid THEN now() ELSE e.updated_at END
        """;

    /// <summary>
    /// Upserts the valid records of one page in one statement; returns how many were written. Should PostgreSQL refuse a
    /// value (a data error), the page is written record by record and only the refused records are left out.
    /// </summary>
    public async Task<int> UpsertAsync(string collection, IReadOnlyList<RecordEntry> records, Guid operationId)
    {
        try
        {
            return await UpsertOnceAsync(collection, records, operationId);
        }
        catch (PostgresException ex) when (PostgresErrors.IsDataError(ex))
        {
            var written = 0;
            foreach (var record in records)
            {
                try
                {
                    written += await UpsertOnceAsync(collection, [record], operationId);
                }
                catch (PostgresException one) when (PostgresErrors.IsDataError(one))
                {
                    // Left out, like an invalid record; the page's count of written records says how many went in.
                }
            }

            return written;
        }
    }

    private async Task<int> UpsertOnceAsync(string collection, IReadOnlyList<RecordEntry> records, Guid operationId)
    {
        if (records.Count == 0)
        {
            return 0;
        }

        await using var command = dataSource.CreateCommand(collection == GovernanceCollections.Node ? UpsertNodes : UpsertEdges);
        command.Parameters.AddWithValue("op", operationId);
        command.Parameters.AddWithValue("uris", records.Select(r => r.Uri.Value).ToArray());
        command.Parameters.AddWithValue("cids", records.Select(r => r.Cid.Value).ToArray());
        command.Parameters.Add(new NpgsqlParameter("records", NpgsqlDbType.Array | NpgsqlDbType.Jsonb)
        {
            Value = records.Select(r => r.Value.GetRawText()).ToArray(),
        });
        await command.ExecuteNonQueryAsync();
        return records.Count;
    }

    /// <summary>How many graph rows the sweep after <paramref name="operationId"/> would remove, of how many.</summary>
    public async Task<(long Stale, long Total)> CountStaleAsync(Guid operationId)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT (SELECT count(*) FROM governance_nodes WHERE sync_operation_id IS DISTINCT FROM @op)
                 + (SELECT count(*) FROM governance_edges WHERE sync_operation_id IS DISTINCT FROM @op),
                   (SELECT count(*) FROM governance_nodes) + (SELECT count(*) FROM governance_edges)
            """);
        command.Parameters.AddWithValue("op", operationId);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>After a complete sync: rows that sync did not see are no longer in the repo. Returns how many went.</summary>
    public async Task<int> SweepAsync(Guid operationId)
    {
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand("DELETE FROM governance_edges WHERE sync_operation_id IS DISTINCT FROM @op") { Parameters = { new("op", operationId) } });
        batch.BatchCommands.Add(new NpgsqlBatchCommand("DELETE FROM governance_nodes WHERE sync_operation_id IS DISTINCT FROM @op") { Parameters = { new("op", operationId) } });
        return await batch.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// A node needs string id, kind, label and status; an edge string id, sourceUri, targetUri, relationSlug and status;
    /// and either must be a record we can store at all (<see cref="RecordValues"/>).
    /// </summary>
    public static bool IsValid(string collection, JsonElement value)
    {
        if (RecordValues.Problem(value.GetRawText()) is not null)
        {
            return false;
        }

        string[] required = collection == GovernanceCollections.Node
            ? ["id", "kind", "label", "status"]
            : ["id", "sourceUri", "targetUri", "relationSlug", "status"];
        return required.All(p => value.TryGetProperty(p, out var v) && v.ValueKind == JsonValueKind.String && v.GetString()!.Length > 0);
    }
}
