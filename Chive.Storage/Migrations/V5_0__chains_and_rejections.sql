-- The position of every chain of units of work (a scan lane, a reindex, a governance sync, an operation's start).
-- A unit runs only at the chain's current position, and moves it on (compare-and-set) before it sends its successor,
-- so a duplicated message — a start sent twice, a chunk redelivered after its successor left — forks nothing:
-- the copy that loses sends nothing further. advanced_by is the message id of the delivery that moved the chain on, so
-- that delivery, redelivered after a crash, may send its successor again. Pruned with the batch ledger.
CREATE TABLE operation_chains (
  operation_id  uuid NOT NULL,
  chain         text NOT NULL,
  position      integer NOT NULL,
  advanced_by   uuid,
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (operation_id, chain)
);

CREATE INDEX operation_chains_updated_at_idx ON operation_chains (updated_at);

-- Records a scan could not index, and why (wrong JSON types in required fields, NUL characters, unpaired surrogates,
-- duplicate keys, too deep, too large, refused by PostgreSQL): one row per AT-URI, its latest reason. A record that
-- later indexes cleanly leaves this table. For operators: which URI, why, seen by which operation, when.
CREATE TABLE record_rejections (
  uri            text PRIMARY KEY,
  did            text NOT NULL,
  collection     text NOT NULL,
  cid            text,
  reason         text NOT NULL,
  pds_url        text,
  operation_id   uuid,
  first_seen_at  timestamptz NOT NULL DEFAULT now(),
  last_seen_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX record_rejections_operation_idx ON record_rejections (operation_id);
CREATE INDEX record_rejections_did_idx ON record_rejections (did);


