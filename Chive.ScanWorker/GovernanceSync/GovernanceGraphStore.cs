using System.Text.Json;
using Chive.AtProto.Xrpc;
using Chive.Contracts.GovernanceSync;
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
            CASE WHEN jsonb_typeof(r->'weight') = 'number' THEN (r->>'weight')::numeric::integer END, r->'metadata',
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

    /// <summary>Upserts the valid records of one page; returns how many were written.</summary>
    public async Task<int> UpsertAsync(string collection, IReadOnlyList<RecordEntry> records, Guid operationId)
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
            Value = records.Select(r => JsonSerializer.Serialize(r.Value)).ToArray(),
        });
        await command.ExecuteNonQueryAsync();
        return records.Count;
    }

    /// <summary>After a complete sync: rows that sync did not see are no longer in the repo. Returns how many went.</summary>
    public async Task<int> SweepAsync(Guid operationId)
    {
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand("DELETE FROM governance_edges WHERE sync_operation_id IS DISTINCT FROM @op") { Parameters = { new("op", operationId) } });
        batch.BatchCommands.Add(new NpgsqlBatchCommand("DELETE FROM governance_nodes WHERE sync_operation_id IS DISTINCT FROM @op") { Parameters = { new("op", operationId) } });
        return await batch.ExecuteNonQueryAsync();
    }

    /// <summary>A node needs string id, kind, label and status; an edge string id, sourceUri, targetUri, relationSlug and status.</summary>
    public static bool IsValid(string collection, JsonElement value)
    {
        string[] required = collection == GovernanceCollections.Node
            ? ["id", "kind", "label", "status"]
            : ["id", "sourceUri", "targetUri", "relationSlug", "status"];
        return required.All(p => value.TryGetProperty(p, out var v) && v.ValueKind == JsonValueKind.String && v.GetString()!.Length > 0);
    }
}
