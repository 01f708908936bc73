-- The governance knowledge graph (pub.chive.graph.node / .edge records of the governance repo), keyed by AT-URI.
-- sync_operation_id is the governance sync that last saw the row: at the end of a complete sync, rows it did not see
-- are gone from the repo and are deleted.

CREATE OR REPLACE FUNCTION chive_try_timestamptz(value text) RETURNS timestamptz LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN value::timestamptz;
EXCEPTION WHEN others THEN
  RETURN NULL;
END;
$$;

CREATE TABLE governance_nodes (
  uri                 text PRIMARY KEY,
  cid                 text NOT NULL,
  id                  text NOT NULL,
  slug                text,
  kind                text NOT NULL,
  subkind             text,
  subkind_uri         text,
  label               text NOT NULL,
  alternate_labels    jsonb,
  description         text,
  external_ids        jsonb,
  metadata            jsonb,
  status              text NOT NULL,
  deprecated_by       text,
  proposal_uri        text,
  created_by          text,
  record_created_at   timestamptz,
  record_updated_at   timestamptz,
  record              jsonb NOT NULL,
  sync_operation_id   uuid,
  indexed_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX governance_nodes_kind_idx ON governance_nodes (kind, subkind);
CREATE INDEX governance_nodes_sync_idx ON governance_nodes (sync_operation_id);

CREATE TABLE governance_edges (
  uri                 text PRIMARY KEY,
  cid                 text NOT NULL,
  id                  text NOT NULL,
  source_uri          text NOT NULL,
  target_uri          text NOT NULL,
  relation_uri        text,
  relation_slug       text NOT NULL,
  weight              integer,
  metadata            jsonb,
  status              text NOT NULL,
  proposal_uri        text,
  created_by          text,
  record_created_at   timestamptz,
  record_updated_at   timestamptz,
  record              jsonb NOT NULL,
  sync_operation_id   uuid,
  indexed_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX governance_edges_source_idx ON governance_edges (source_uri);
CREATE INDEX governance_edges_target_idx ON governance_edges (target_uri);
CREATE INDEX governance_edges_sync_idx ON governance_edges (sync_operation_id);
