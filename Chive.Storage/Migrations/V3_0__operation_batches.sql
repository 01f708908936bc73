-- The IndexWorker's batch ledger: one row per batch of an operation it has indexed (record batches and sweeps),
-- written in the same transaction as the batch itself. A redelivered batch finds its row and is not counted twice, and
-- an operation's totals are one aggregate over its rows. Rows are kept for a week (the IndexWorker prunes older ones).
CREATE TABLE operation_batches (
  operation_id   uuid NOT NULL,
  batch_id       uuid NOT NULL,
  records        integer NOT NULL DEFAULT 0,   -- valid records stored or confirmed unchanged
  changed        integer NOT NULL DEFAULT 0,   -- of which new or changed (written)
  invalid        integer NOT NULL DEFAULT 0,   -- skipped, with their reasons in the IndexWorker's log
  deleted        integer NOT NULL DEFAULT 0,   -- marked deleted by a sweep
  search_errors  integer NOT NULL DEFAULT 0,   -- Elasticsearch item errors
  indexed_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (operation_id, batch_id)
);

CREATE INDEX operation_batches_indexed_at_idx ON operation_batches (indexed_at);
