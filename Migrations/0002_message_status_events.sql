-- 0002: every provider delivery status as received, and a rank that keeps a message's status from moving back.
--
-- A status may arrive before the outbound message it belongs to is stored (the provider is faster than our own
-- insert), or for a message sent outside Switchboard: it is kept here either way, once per (message, status), so
-- nothing a provider reported is lost, and messages.provider_status only ever moves up the rank.

-- accepted < sent < delivered < read; failed is terminal (nothing replaces it).
CREATE FUNCTION switchboard_status_rank(status text) RETURNS integer
    LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE status WHEN 'accepted' THEN 0 WHEN 'sent' THEN 1 WHEN 'delivered' THEN 2 WHEN 'read' THEN 3
                       WHEN 'failed' THEN 4 ELSE -1 END $$;

CREATE TABLE message_status_events (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id            uuid NOT NULL,
    channel_id           uuid NOT NULL,
    provider_message_id  text NOT NULL CHECK (provider_message_id <> ''),
    status               text NOT NULL CHECK (status IN ('accepted', 'sent', 'delivered', 'read', 'failed')),
    occurred_at          timestamptz,
    error                text,
    raw                  jsonb NOT NULL,
    received_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, channel_id, provider_message_id, status),
    FOREIGN KEY (tenant_id, channel_id) REFERENCES channels (tenant_id, id) ON DELETE CASCADE
);

ALTER TABLE message_status_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE message_status_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON message_status_events
    USING (tenant_id = switchboard_current_tenant() OR switchboard_system_access())
    WITH CHECK (tenant_id = switchboard_current_tenant() OR switchboard_system_access());
