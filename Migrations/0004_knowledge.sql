-- 0004_knowledge: a tenant's catalogue and help center, searched by the pipeline's stages.
-- No pgvector here: embeddings are float32 vectors stored as bytea (little-endian, 4 bytes a dimension) with the id
-- of the model that made them, and searched by brute-force cosine in the worker. Search text is folded (lower case,
-- accents removed) by the application (TextFolding.swift), so queries fold the same way in English and Spanish.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE products (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    sku              text NOT NULL CHECK (sku <> '' AND length(sku) <= 100),
    name             text NOT NULL CHECK (name <> ''),
    aliases          text[] NOT NULL DEFAULT '{}',
    unit             text NOT NULL CHECK (unit <> ''),
    pack             text,
    price            numeric(12, 2) CHECK (price IS NULL OR price >= 0),
    category         text,
    active           boolean NOT NULL DEFAULT true,
    -- Bumped by every import that changes the row; deactivation (--prune) is a change.
    version          integer NOT NULL DEFAULT 1,
    -- Folded name, and folded aliases joined by ' | ', for trigram matching.
    search_name      text NOT NULL,
    search_aliases   text NOT NULL DEFAULT '',
    embedding        bytea,
    embedding_model  text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, sku),
    UNIQUE (tenant_id, id)
);
CREATE INDEX products_search_name_trgm ON products USING gin (search_name gin_trgm_ops);
CREATE INDEX products_search_aliases_trgm ON products USING gin (search_aliases gin_trgm_ops);

-- A help-center entry. external_id is the source's own id (front matter `id`, or the file's slug); an import
-- matches entries by it. content_hash is over everything the import sets, so an unchanged entry is left alone.
-- Deletes are soft (deleted_at); a deleted entry imported again comes back as a new version.
CREATE TABLE kb_articles (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    deleted_at       timestamptz,
    external_id      text NOT NULL CHECK (external_id <> ''),
    slug             text,
    type             text NOT NULL DEFAULT 'article' CHECK (type IN ('article', 'faq', 'policy', 'snippet')),
    title            text NOT NULL CHECK (title <> ''),
    search_title     text NOT NULL,
    content          text NOT NULL,
    metadata         jsonb NOT NULL DEFAULT '{}',
    keywords         text[] NOT NULL DEFAULT '{}',
    category         text,
    priority         integer NOT NULL DEFAULT 0,
    active           boolean NOT NULL DEFAULT true,
    language         regconfig NOT NULL DEFAULT 'english',
    version          integer NOT NULL DEFAULT 1,
    content_hash     text NOT NULL
);
CREATE UNIQUE INDEX kb_articles_external_id ON kb_articles (tenant_id, external_id);
CREATE UNIQUE INDEX kb_articles_tenant_id ON kb_articles (tenant_id, id);
CREATE INDEX kb_articles_search_title_trgm ON kb_articles USING gin (search_title gin_trgm_ops);

-- An article version's passages: each carries the title, so a chunk found alone still says what it is about.
-- A new version's chunks replace the old ones in the import's transaction (retired_at set, never updated again).
CREATE TABLE kb_chunks (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id        uuid NOT NULL,
    article_id       uuid NOT NULL,
    article_version  integer NOT NULL,
    position         integer NOT NULL CHECK (position >= 0),
    text             text NOT NULL CHECK (text <> ''),
    language         regconfig NOT NULL DEFAULT 'english',
    tsv              tsvector GENERATED ALWAYS AS (to_tsvector(language, text)) STORED,
    embedding        bytea,
    embedding_model  text,
    embedded_at      timestamptz,
    retired_at       timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, article_id, article_version, position),
    FOREIGN KEY (tenant_id, article_id) REFERENCES kb_articles (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX kb_chunks_tsv ON kb_chunks USING gin (tsv);
CREATE INDEX kb_chunks_live ON kb_chunks (tenant_id, article_id) WHERE retired_at IS NULL;
CREATE INDEX kb_chunks_pending ON kb_chunks (tenant_id) WHERE retired_at IS NULL AND embedding IS NULL;

-- A tenant's knowledge generation: bumped by every import and embedding write, so a worker's cached vectors know
-- when they are stale with one primary-key read.
CREATE TABLE kb_state (
    tenant_id   uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    generation  bigint NOT NULL DEFAULT 0
);

-- Row-level security for a tenant-owned table, as 0001 sets it up; later migrations call this for new tables.
CREATE FUNCTION switchboard_isolate_tenant_table(t regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY; ALTER TABLE %s FORCE ROW LEVEL SECURITY; '
        'CREATE POLICY tenant_isolation ON %s USING (tenant_id = switchboard_current_tenant() OR switchboard_system_access()) '
        'WITH CHECK (tenant_id = switchboard_current_tenant() OR switchboard_system_access())', t, t, t);
END $$;

SELECT switchboard_isolate_tenant_table(t) FROM unnest(ARRAY['products', 'kb_articles', 'kb_chunks', 'kb_state']::regclass[]) AS t;
