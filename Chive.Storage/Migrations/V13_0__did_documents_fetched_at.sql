-- V12 kept each shared DID document until an expiry its writer chose (the writer's AtProto:Identity:CacheTtl). A reader
-- now takes a document only while it is younger than its own CacheTtl, so the table records when a document was
-- fetched instead. V12 itself stays as it was applied (a migration once applied is never edited: Evolve checks its
-- checksum). A cache: emptied, not converted — the documents are fetched again.
TRUNCATE did_documents;
ALTER TABLE did_documents RENAME COLUMN expires_at TO fetched_at;
