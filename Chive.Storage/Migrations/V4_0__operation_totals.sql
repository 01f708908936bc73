-- Running totals per operation, kept by the IndexWorker in each batch's own transaction (one row update), so a report
-- after a batch reads one row instead of summing the whole ledger — constant cost per batch however long the scan.
CREATE TABLE operation_totals (
  operation_id   uuid PRIMARY KEY,
  batches        bigint NOT NULL DEFAULT 0,
  records        bigint NOT NULL DEFAULT 0,
  changed        bigint NOT NULL DEFAULT 0,
  invalid        bigint NOT NULL DEFAULT 0,
  deleted        bigint NOT NULL DEFAULT 0,
  search_errors  bigint NOT NULL DEFAULT 0,
  updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX operation_totals_updated_at_idx ON operation_totals (updated_at);
