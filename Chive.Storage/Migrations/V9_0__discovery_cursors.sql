-- Where PDS discovery stopped reading each source (Chive.ScanWorker.PdsScan.PdsDiscovery): the PLC directory's export
-- (the createdAt of the last operation read) and a relay's listHosts (its cursor). Each run reads only what is new.
CREATE TABLE discovery_cursors (
    source     text PRIMARY KEY,
    cursor     text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
