-- 0011_memory: a conversation's working context (kept by decide-turn, expired after the tenant's idle time with its
-- durable facts kept on the customer), summaries of long conversations, a per-conversation message sequence, and the
-- retention of raw provider payloads.

-- Each message's position in its conversation (1, 2, …), given under the conversation's row lock by the trigger below,
-- so positions follow commit order within a conversation. A duplicate insert that ON CONFLICT drops still uses up a
-- number: positions are increasing, not gap-free. Summaries name the range of positions they cover.
ALTER TABLE conversations
    ADD COLUMN message_count integer NOT NULL DEFAULT 0,
    -- The last position the conversation's summaries cover (0: none yet).
    ADD COLUMN summarized_through integer NOT NULL DEFAULT 0;
-- A customer's conversations of every status (the only index with customer_id so far covers open ones): finds the
-- earlier conversation a returning customer left, and keeps deleting a customer or a tenant linear — without it the
-- cascade from customers scans every closed conversation once per customer (100,000 customers: hours).
CREATE INDEX conversations_customer ON conversations (tenant_id, customer_id, last_activity_at DESC);
ALTER TABLE messages ADD COLUMN seq integer;
UPDATE messages m SET seq = n.seq
FROM (SELECT id, row_number() OVER (PARTITION BY conversation_id ORDER BY created_at, id) AS seq FROM messages) n
WHERE m.id = n.id;
UPDATE conversations c SET message_count = coalesce((SELECT max(seq) FROM messages m WHERE m.conversation_id = c.id), 0);
ALTER TABLE messages ALTER COLUMN seq SET NOT NULL;
CREATE INDEX messages_conversation_seq ON messages (tenant_id, conversation_id, seq);

CREATE FUNCTION switchboard_message_seq() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    UPDATE conversations SET message_count = message_count + 1 WHERE id = NEW.conversation_id
    RETURNING message_count INTO NEW.seq;
    IF NEW.seq IS NULL THEN
        RAISE EXCEPTION 'no conversation % for the message', NEW.conversation_id;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER messages_seq BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION switchboard_message_seq();

-- Raw provider payloads are deleted after the tenant's retention (the message text, turns and orders stay).
ALTER TABLE messages ALTER COLUMN raw DROP NOT NULL;
ALTER TABLE message_status_events ALTER COLUMN raw DROP NOT NULL;
CREATE INDEX messages_raw_age ON messages (tenant_id, created_at) WHERE raw IS NOT NULL;
CREATE INDEX message_status_events_raw_age ON message_status_events (tenant_id, received_at) WHERE raw IS NOT NULL;

ALTER TABLE pipeline_settings
    -- A conversation quiet this long is closed and its working context cleared (the spec's 30 minutes).
    ADD COLUMN context_idle_seconds integer NOT NULL DEFAULT 1800 CHECK (context_idle_seconds BETWEEN 1 AND 2592000),
    -- A conversation is summarised when it has more messages than this since its last summary.
    ADD COLUMN summary_every integer NOT NULL DEFAULT 20 CHECK (summary_every BETWEEN 2 AND 10000),
    -- Raw provider payloads older than this are deleted.
    ADD COLUMN payload_retention_days integer NOT NULL DEFAULT 90 CHECK (payload_retention_days BETWEEN 1 AND 3650);

-- What a customer's earlier conversation left behind when it expired: durable facts (name, business, city, usual
-- products), the topic, and an action still pending (an order draft). A returning customer's first turn reads it.
ALTER TABLE customers
    ADD COLUMN key_facts jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN previous_topic text,
    ADD COLUMN previous_pending_action jsonb,
    ADD COLUMN previous_conversation_id uuid,
    ADD COLUMN memory_kept_at timestamptz;

-- The working context of a conversation, written by decide-turn in its fenced transaction.
CREATE TABLE conversation_context (
    conversation_id      uuid PRIMARY KEY,
    tenant_id            uuid NOT NULL,
    current_topic        text,
    -- e.g. {"kind": "order_draft", "order_id": …, "lines": 3}: an order draft awaiting confirmation.
    pending_action       jsonb,
    -- The latest value of each entity type the customer gave: {"city": "Bilbao", "order_id": "…"}.
    extracted_entities   jsonb NOT NULL DEFAULT '{}',
    last_product_viewed  text,
    summary              text,
    -- Durable facts, kept on the customer when the context expires: {"person_name", "city", "usual_products": […]}.
    key_facts            jsonb NOT NULL DEFAULT '{}',
    -- The conversation's last activity when the context was written; expiry checks nothing newer arrived since.
    last_activity_at     timestamptz NOT NULL,
    idle_seconds         integer NOT NULL,
    -- Null while a person has the conversation (handoff) and once expired.
    expires_at           timestamptz,
    expired_at           timestamptz,
    -- The earlier conversation whose memory this one's first turn restored.
    restored_from        uuid,
    updated_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, conversation_id),
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX conversation_context_due ON conversation_context (expires_at) WHERE expires_at IS NOT NULL;

-- Summaries of a conversation's messages, each covering positions first_seq..last_seq (the earlier summaries' ranges
-- come before). The same range always gives the same summary, so a re-run finds its row and changes nothing.
CREATE TABLE conversation_summaries (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id        uuid NOT NULL,
    conversation_id  uuid NOT NULL,
    first_seq        integer NOT NULL,
    last_seq         integer NOT NULL CHECK (last_seq >= first_seq),
    message_count    integer NOT NULL,
    summary          text NOT NULL,
    -- 'extractive' (embedded) or the hosted model that wrote it.
    method           text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, conversation_id, last_seq),
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations (tenant_id, id) ON DELETE CASCADE
);

SELECT switchboard_isolate_tenant_table(t) FROM unnest(ARRAY['conversation_context', 'conversation_summaries']::regclass[]) AS t;
