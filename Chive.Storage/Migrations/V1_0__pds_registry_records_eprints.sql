-- Chive backfill schema, version 1: the PDS registry, every indexed pub.chive.* record, and the eprints projection.
-- Applied by Evolve (see DatabaseMigrator); never edit an applied file, add V<n>__*.sql instead.

CREATE OR REPLACE FUNCTION chive_touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END;
$$;

-- PDSes we know of and when to scan them next. Rows are claimed with a lease (lease_owner, lease_expires_at) taken
-- under FOR UPDATE SKIP LOCKED, so two scans never take the same PDS and a crashed worker's claim lapses by itself.
CREATE TABLE pds_registry (
  pds_url               text PRIMARY KEY CHECK (pds_url ~ '^https?://[^/]+$'),
  discovered_at         timestamptz NOT NULL DEFAULT now(),
  discovery_source      text NOT NULL
                          CHECK (discovery_source IN ('plc_enumeration', 'relay_listhosts', 'user_registration', 'did_mention', 'admin')),
  status                text NOT NULL DEFAULT 'pending'
                          CHECK (status IN ('pending', 'active', 'scanning', 'unreachable', 'no_chive_records')),
  last_scan_at          timestamptz,
  next_scan_at          timestamptz,
  has_chive_records     boolean NOT NULL DEFAULT false,
  chive_record_count    integer NOT NULL DEFAULT 0 CHECK (chive_record_count >= 0),
  consecutive_failures  integer NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
  scan_priority         integer NOT NULL DEFAULT 100,
  last_error            text,
  lease_owner           text,
  lease_expires_at      timestamptz,
  updated_at            timestamptz NOT NULL DEFAULT now()
);

-- "Due for a scan": the selection the scanner runs on every batch.
CREATE INDEX pds_registry_due_idx ON pds_registry (scan_priority, next_scan_at NULLS FIRST)
  WHERE status IN ('pending', 'active', 'no_chive_records');
CREATE INDEX pds_registry_status_idx ON pds_registry (status);

CREATE TRIGGER pds_registry_touch BEFORE UPDATE ON pds_registry
  FOR EACH ROW EXECUTE FUNCTION chive_touch_updated_at();

-- Every pub.chive.* record we have seen, exactly as its PDS served it. The single source for every projection.
CREATE TABLE indexed_records (
  uri              text PRIMARY KEY,
  cid              text NOT NULL,
  did              text NOT NULL,
  collection       text NOT NULL CHECK (collection LIKE 'pub.chive.%'),
  rkey             text NOT NULL,
  record           jsonb NOT NULL,
  pds_url          text,
  indexed_at       timestamptz NOT NULL DEFAULT now(),  -- first seen
  updated_at       timestamptz NOT NULL DEFAULT now(),  -- last change of content (cid)
  last_synced_at   timestamptz NOT NULL DEFAULT now(),  -- last confirmed against the PDS
  deleted_at       timestamptz,
  deletion_source  text CHECK (deletion_source IN ('pds_404', 'firehose_tombstone', 'admin', 'scan_missing')),
  CONSTRAINT indexed_records_uri_parts CHECK (uri = 'at://' || did || '/' || collection || '/' || rkey)
);

CREATE INDEX indexed_records_did_collection_idx ON indexed_records (did, collection);
CREATE INDEX indexed_records_collection_idx ON indexed_records (collection);
CREATE INDEX indexed_records_pds_url_idx ON indexed_records (pds_url);
CREATE INDEX indexed_records_last_synced_idx ON indexed_records (last_synced_at) WHERE deleted_at IS NULL;

-- The eprints projection of pub.chive.eprint.submission records (the columns of Chive's eprints_index).
CREATE TABLE eprints_index (
  uri                         text PRIMARY KEY,
  cid                         text NOT NULL,
  submitted_by                text NOT NULL,
  paper_did                   text,
  authors                     jsonb NOT NULL DEFAULT '[]'::jsonb,
  title                       text NOT NULL,
  abstract                    jsonb,
  abstract_plain_text         text,
  document_blob_cid           text,
  document_blob_mime_type     text,
  document_blob_size          bigint,
  document_format             text,
  publication_status          text,
  published_version           jsonb,
  external_ids                jsonb,
  related_works               jsonb,
  repositories                jsonb,
  funding                     jsonb,
  conference_presentation     jsonb,
  supplementary_materials     jsonb,
  keywords                    text[] NOT NULL DEFAULT '{}',
  fields                      jsonb NOT NULL DEFAULT '[]'::jsonb,
  version                     integer NOT NULL DEFAULT 1,
  previous_version_uri        text REFERENCES eprints_index (uri) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
  license                     text,
  license_uri                 text,
  needs_abstract_migration    boolean NOT NULL DEFAULT false,
  created_at                  timestamptz NOT NULL,
  updated_at                  timestamptz NOT NULL DEFAULT now(),
  pds_url                     text,
  indexed_at                  timestamptz NOT NULL DEFAULT now(),
  last_synced_at              timestamptz NOT NULL DEFAULT now(),
  deleted_at                  timestamptz,
  deletion_source             text CHECK (deletion_source IN ('pds_404', 'firehose_tombstone', 'admin', 'scan_missing'))
);

CREATE INDEX eprints_index_authors_idx ON eprints_index USING gin (authors);
CREATE INDEX eprints_index_external_ids_idx ON eprints_index USING gin (external_ids);
CREATE INDEX eprints_index_related_works_idx ON eprints_index USING gin (related_works);
CREATE INDEX eprints_index_supplementary_idx ON eprints_index USING gin (supplementary_materials);
CREATE INDEX eprints_index_doi_idx ON eprints_index (lower(published_version ->> 'doi'))
  WHERE published_version ? 'doi';
CREATE INDEX eprints_index_deleted_at_idx ON eprints_index (deleted_at);
CREATE INDEX eprints_index_submitted_by_idx ON eprints_index (submitted_by);
CREATE INDEX eprints_index_last_synced_idx ON eprints_index (last_synced_at) WHERE deleted_at IS NULL;
