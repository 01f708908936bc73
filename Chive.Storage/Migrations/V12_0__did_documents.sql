-- DID documents shared by the processes that resolve DIDs (Chive.Storage.PostgresDidDocumentCache): each worker replica
-- kept its own cache, so the PLC directory was asked for a document once per replica. The JSON as fetched and checked,
-- until it expires (AtProto:Identity:CacheTtl). Unlogged: a cache — after a crash an empty table only means documents
-- are fetched again.
CREATE UNLOGGED TABLE did_documents (
    did text PRIMARY KEY,
    document text NOT NULL,
    expires_at timestamptz NOT NULL
);
