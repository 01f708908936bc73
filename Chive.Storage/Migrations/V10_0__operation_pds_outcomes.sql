-- What each PDS scan found on each PDS, written by the ScanWorker's registry in the same statement that records the
-- outcome in pds_registry (Chive.ScanWorker.PdsScan.PdsRegistry): the operation's detail view lists it. Pruned with
-- the batch ledger (LedgerPruning, 7 days).
CREATE TABLE operation_pds_outcomes (
    operation_id  text NOT NULL,
    pds_url       text NOT NULL,
    outcome       text NOT NULL,
    status        text NOT NULL,
    chive_records integer NOT NULL,
    error         text,
    finished_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (operation_id, pds_url)
);

CREATE INDEX operation_pds_outcomes_finished_idx ON operation_pds_outcomes (finished_at);
