-- Fencing numbers per (tenant, key): a write made under a distributed lock records the lock's fencing number here in
-- the same transaction, and is refused when a newer holder of the same lock already wrote (see FencedWrite.swift).
-- The upsert's row lock serialises concurrent holders: the older one waits for the newer's COMMIT, then fails.
CREATE TABLE fences (
    tenant_id  uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key        text        NOT NULL,
    fence      bigint      NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, key)
);

ALTER TABLE fences ENABLE ROW LEVEL SECURITY;
ALTER TABLE fences FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON fences
    USING (tenant_id = switchboard_current_tenant() OR switchboard_system_access())
    WITH CHECK (tenant_id = switchboard_current_tenant() OR switchboard_system_access());
