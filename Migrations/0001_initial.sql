-- 0001_initial: tenants, their channels, customers with several identities, conversations and messages.
-- Every tenant-owned table carries tenant_id and is guarded by row-level security (see the end of the file).
-- Child rows reference their parents through (tenant_id, id), so a row can never point into another tenant.

CREATE TABLE tenants (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- A tenant's number or address at a provider. address is the routing key of inbound webhooks:
-- WhatsApp phone_number_id, Twilio number (E.164), or inbound email address (lower case).
-- secrets is JSON sealed with AES-256-GCM by the application (SecretBox), bound to the channel id.
CREATE TABLE channels (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('whatsapp', 'twilio', 'email')),
    address     text NOT NULL CHECK (address <> '' AND (kind <> 'email' OR address = lower(address))),
    name        text,
    secrets     bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (kind, address),
    UNIQUE (tenant_id, id)
);

CREATE TABLE customers (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    display_name  text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id)
);

-- How a customer is recognised: phone (E.164), wa_id, WhatsApp business-scoped user id, email.
-- One customer may have several; each identity belongs to at most one customer per tenant.
CREATE TABLE customer_identities (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id    uuid NOT NULL,
    customer_id  uuid NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('phone', 'wa_id', 'wa_bsuid', 'email')),
    value        text NOT NULL CHECK (value <> ''),
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, kind, value),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX customer_identities_customer ON customer_identities (tenant_id, customer_id);

CREATE TABLE conversations (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id         uuid NOT NULL,
    customer_id       uuid NOT NULL,
    channel_id        uuid NOT NULL,
    status            text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    last_activity_at  timestamptz NOT NULL DEFAULT now(),
    created_at        timestamptz NOT NULL DEFAULT now(),
    closed_at         timestamptz,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, channel_id) REFERENCES channels (tenant_id, id) ON DELETE CASCADE
);
-- At most one open conversation per customer and channel.
CREATE UNIQUE INDEX conversations_one_open ON conversations (tenant_id, customer_id, channel_id) WHERE status = 'open';
CREATE INDEX conversations_idle ON conversations (last_activity_at) WHERE status = 'open';

-- provider_message_id is unique per tenant and channel, so ingesting the same provider event twice is a no-op.
-- provider_status only moves forward: accepted < sent < delivered < read; failed is terminal (the ingest job enforces it).
CREATE TABLE messages (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id             uuid NOT NULL,
    channel_id            uuid NOT NULL,
    conversation_id       uuid NOT NULL,
    provider_message_id   text NOT NULL CHECK (provider_message_id <> ''),
    direction             text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    type                  text NOT NULL CHECK (type IN ('text', 'image', 'audio', 'video', 'document', 'sticker', 'location',
                                                        'contacts', 'interactive', 'button', 'order', 'reaction', 'system',
                                                        'email', 'unsupported')),
    text                  text,
    media                 jsonb,
    reply_to_provider_id  text,
    raw                   jsonb NOT NULL,
    provider_status       text CHECK (provider_status IN ('accepted', 'sent', 'delivered', 'read', 'failed')),
    status_updated_at     timestamptz,
    sent_at               timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, channel_id, provider_message_id),
    FOREIGN KEY (tenant_id, channel_id) REFERENCES channels (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX messages_conversation ON messages (tenant_id, conversation_id, created_at);

-- Row-level security. The application sets, per transaction, either switchboard.tenant_id (normal work)
-- or switchboard.system = 'on' (webhook routing, operator commands). FORCE makes the policies apply to
-- the owning role too; only superusers bypass them, so the application must not connect as one.
CREATE FUNCTION switchboard_current_tenant() RETURNS uuid
    LANGUAGE sql STABLE AS $$ SELECT nullif(current_setting('switchboard.tenant_id', true), '')::uuid $$;
CREATE FUNCTION switchboard_system_access() RETURNS boolean
    LANGUAGE sql STABLE AS $$ SELECT coalesce(current_setting('switchboard.system', true), '') = 'on' $$;

ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenants
    USING (id = switchboard_current_tenant() OR switchboard_system_access())
    WITH CHECK (id = switchboard_current_tenant() OR switchboard_system_access());

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['channels', 'customers', 'customer_identities', 'conversations', 'messages'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format($p$CREATE POLICY tenant_isolation ON %I
            USING (tenant_id = switchboard_current_tenant() OR switchboard_system_access())
            WITH CHECK (tenant_id = switchboard_current_tenant() OR switchboard_system_access())$p$, t);
    END LOOP;
END $$;
