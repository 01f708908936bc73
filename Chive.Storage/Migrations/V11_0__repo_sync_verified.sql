-- Whether the commit recorded for a repo is one we read as a signed CAR and verified (Sync:Mode = verified), and every
-- batch of records and sweeps that read sent was applied before the revision was recorded. Only such a commit lets a
-- PDS scan skip the repo when its PDS lists the same head again (PdsScan:SkipUnchangedRepos): a CID names its block's
-- bytes, so the same CID is the same signed commit, and the same commit is the same records. Written by the IndexWorker
-- (RepoSynced); false for every state recorded before, so each repo is read whole once more.
ALTER TABLE repo_sync_state ADD COLUMN verified boolean NOT NULL DEFAULT false;

-- The verified commits one unit of a PDS scan (operation, lane, sequence: one listRepos page) found when it first ran,
-- fixed then: a unit run again after a crash or a retry skips exactly the repos it skipped the first time — although its
-- first run may since have recorded more repos as verified — so it sends the same batches, and nothing is counted twice.
-- The ScanWorker's own scratch, pruned with the batch ledger.
CREATE TABLE scan_unit_commits (
  operation_id  uuid NOT NULL,
  lane          integer NOT NULL,
  sequence      integer NOT NULL,
  commits       jsonb NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (operation_id, lane, sequence)
);

CREATE INDEX scan_unit_commits_created_at_idx ON scan_unit_commits (created_at);
