-- Whether the commit recorded for a repo is one we read as a signed CAR and verified (Sync:Mode = verified), and every
-- batch of records and sweeps that read sent was applied before the revision was recorded. Only such a commit lets a
-- PDS scan skip the repo when its PDS lists the same head again (PdsScan:SkipUnchangedRepos): a CID names its block's
-- bytes, so the same CID is the same signed commit, and the same commit is the same records. Written by the IndexWorker
-- (RepoSynced); false for every state recorded before, so each repo is read whole once more.
ALTER TABLE repo_sync_state ADD COLUMN verified boolean NOT NULL DEFAULT false;
