-- The shared per-host pace (Chive.Storage.PostgresHostPacing): one row per host we read from, holding its theoretical
-- arrival time (GCRA). Unlogged: it is rewritten on every request to a PDS, and after a crash an empty table only means
-- each host starts with its burst again.
CREATE UNLOGGED TABLE host_pacing (
    host text PRIMARY KEY,
    tat timestamptz NOT NULL
);
