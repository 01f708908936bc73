-- Per repo, the revision of its last complete, clean read: what a freshness scan compares the repo's current revision
-- with. Equal revisions mean nothing in the repo changed, so every record of it is confirmed without being fetched.
-- Written by the IndexWorker (RepoSynced), after a PDS scan, a DID sync or a freshness scan read the whole repo.
CREATE TABLE repo_sync_state (
  did            text PRIMARY KEY,
  pds_url        text NOT NULL,
  rev            text NOT NULL,
  commit_cid     text,
  synced_at      timestamptz NOT NULL DEFAULT now(),
  operation_id   uuid
);

-- Records a batch added (first seen), as opposed to changed: a freshness scan reports them apart.
ALTER TABLE operation_batches ADD COLUMN added integer NOT NULL DEFAULT 0;
ALTER TABLE operation_totals ADD COLUMN added bigint NOT NULL DEFAULT 0;

-- Why a record is gone, now also: its account was taken down by its host, or deleted.
ALTER TABLE indexed_records DROP CONSTRAINT indexed_records_deletion_source_check;
ALTER TABLE indexed_records ADD CONSTRAINT indexed_records_deletion_source_check
  CHECK (deletion_source IN ('pds_404', 'firehose_tombstone', 'admin', 'scan_missing', 'takedown', 'account_deleted'));
ALTER TABLE eprints_index DROP CONSTRAINT eprints_index_deletion_source_check;
ALTER TABLE eprints_index ADD CONSTRAINT eprints_index_deletion_source_check
  CHECK (deletion_source IN ('pds_404', 'firehose_tombstone', 'admin', 'scan_missing', 'takedown', 'account_deleted'));

-- The freshness scan selects stale records by repo.
CREATE INDEX indexed_records_did_idx ON indexed_records (did) WHERE deleted_at IS NULL;

-- How many repos the PDS listed at its last complete scan: what a freshness scan weighs one listRepos page per 1,000
-- repos against one getLatestCommit per stale repo by.
ALTER TABLE pds_registry ADD COLUMN repo_count integer CHECK (repo_count >= 0);

-- The repos a freshness scan checks, fixed when it starts: each with the PDS and revision we held for it then, and —
-- where the scan listed that PDS with listRepos — what the listing said of it. Every unit of the scan walks this
-- snapshot (never the live tables, which the scan itself changes), so a unit run again after a crash checks the same
-- repos against the same revisions and sends the same batches. The ScanWorker's own scratch: deleted when the scan ends,
-- pruned with the batch ledger if it never does.
CREATE TABLE freshness_repos (
  operation_id   uuid NOT NULL,
  did            text NOT NULL,
  pds_url        text,
  rev            text,
  listed_pds     text,
  listed_rev     text,
  listed_cid     text,
  listed_active  boolean,
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (operation_id, did)
);

CREATE INDEX freshness_repos_created_at_idx ON freshness_repos (created_at);
