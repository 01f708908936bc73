-- Citation extraction: the citations of eprints (Chive's extracted_citations, plus the sources of each), what each
-- eprint's last extraction was made from, and the Semantic Scholar / Crossref answers we keep for a while.

-- One row per cited work of an eprint. Automatic rows (source grobid, semantic-scholar or crossref) are replaced as a
-- whole per eprint by each extraction, in one transaction; user-provided rows (user_record_uri set, from
-- pub.chive.eprint.citation records) are never touched by it.
CREATE TABLE extracted_citations (
  id                 bigserial PRIMARY KEY,
  eprint_uri         text NOT NULL,
  raw_text           text,
  title              text,
  doi                text,
  arxiv_id           text,
  authors            jsonb,
  year               integer,
  venue              text,
  volume             text,
  pages              text,
  source             text NOT NULL DEFAULT 'auto'
                       CHECK (source IN ('auto', 'grobid', 'semantic-scholar', 'crossref', 'user-provided')),
  sources            text[] NOT NULL DEFAULT '{}',
  confidence         real NOT NULL DEFAULT 0,
  chive_match_uri    text,
  match_confidence   real,
  match_method       text CHECK (match_method IN ('doi', 'title')),
  is_influential     boolean,
  citation_type      text,
  context            text,
  user_record_uri    text,
  curator_did        text,
  extracted_at       timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX extracted_citations_eprint_uri_idx ON extracted_citations (eprint_uri);
CREATE INDEX extracted_citations_doi_idx ON extracted_citations (doi) WHERE doi IS NOT NULL;
CREATE INDEX extracted_citations_match_idx ON extracted_citations (chive_match_uri) WHERE chive_match_uri IS NOT NULL;
CREATE UNIQUE INDEX extracted_citations_user_record_idx ON extracted_citations (user_record_uri) WHERE user_record_uri IS NOT NULL;

-- Per eprint, its last extraction: the document blob it read, whether it was complete (GROBID and Semantic Scholar
-- both answered), a hash of the rows it wrote (a run that finds the same citations writes nothing), and the counts an
-- operation re-running a unit after a crash reports again instead of extracting twice.
CREATE TABLE citation_extractions (
  eprint_uri         text PRIMARY KEY,
  document_blob_cid  text,
  complete           boolean NOT NULL,
  rows_hash          text NOT NULL,
  citations          integer NOT NULL,
  matched            integer NOT NULL,
  operation_id       uuid,
  extracted_at       timestamptz NOT NULL DEFAULT now()
);

-- Semantic Scholar and Crossref answers by what was asked (e.g. 's2-refs:DOI:10.1/x', 'crossref:10.1/x'): the answer's
-- JSON, or NULL for "not found" (a 404 or a null in a batch answer), kept until expires_at.
CREATE TABLE citation_lookups (
  key         text PRIMARY KEY,
  answer      jsonb,
  fetched_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL
);

CREATE INDEX citation_lookups_expires_idx ON citation_lookups (expires_at);

-- The title key citations are matched to our eprints on: lowercase, every run of characters other than a-z and 0-9
-- one space, trimmed. An expression index makes the title match one indexed lookup per extraction.
CREATE FUNCTION chive_title_key(title text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT btrim(regexp_replace(lower(title), '[^a-z0-9]+', ' ', 'g'))
$$;

CREATE INDEX eprints_index_title_key_idx ON eprints_index (chive_title_key(title)) WHERE deleted_at IS NULL;
