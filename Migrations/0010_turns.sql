-- 0010_turns: the turn pipeline. A burst of a customer's messages becomes one turn (conversation_turns); each stage
-- (understand, retrieve, extract, decide) stores its result on the turn; the decision is reply, draft (for a person)
-- or handoff, or superseded when a newer message arrived before the answer was composed or sent.

-- A conversation a person has taken over: 'handoff' until `switchboard conversations release`. It is still the
-- customer's one active conversation on the channel, so the one-open index covers it.
ALTER TABLE conversations DROP CONSTRAINT conversations_status_check;
ALTER TABLE conversations ADD CONSTRAINT conversations_status_check CHECK (status IN ('open', 'handoff', 'closed'));
DROP INDEX conversations_one_open;
CREATE UNIQUE INDEX conversations_one_active ON conversations (tenant_id, customer_id, channel_id) WHERE status IN ('open', 'handoff');
DROP INDEX conversations_idle;
CREATE INDEX conversations_idle ON conversations (last_activity_at) WHERE status IN ('open', 'handoff');
ALTER TABLE conversations
    ADD COLUMN handoff_reason text,
    ADD COLUMN handoff_at timestamptz,
    -- Consecutive turns understood below the tenant's confidence threshold; two in a row hand off.
    ADD COLUMN low_confidence_streak integer NOT NULL DEFAULT 0;

-- The per-tenant knobs of the pipeline (absent row: the defaults).
CREATE TABLE pipeline_settings (
    tenant_id             uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    burst_window_ms       integer NOT NULL DEFAULT 5000 CHECK (burst_window_ms BETWEEN 1 AND 600000),
    burst_max_wait_ms     integer NOT NULL DEFAULT 20000 CHECK (burst_max_wait_ms BETWEEN 1 AND 3600000),
    -- Message types that end a burst by themselves (flushed at once).
    flush_types           text[] NOT NULL DEFAULT '{order,interactive,button}',
    -- A turn understood at or above this confidence may be answered automatically.
    confidence_threshold  real NOT NULL DEFAULT 0.95 CHECK (confidence_threshold BETWEEN 0 AND 1),
    -- Intents always handed to a person.
    always_human          text[] NOT NULL DEFAULT '{}',
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CHECK (burst_max_wait_ms >= burst_window_ms)
);

CREATE TABLE conversation_turns (
    id                uuid PRIMARY KEY,
    tenant_id         uuid NOT NULL,
    conversation_id   uuid NOT NULL,
    -- SHA-256 of the burst's collected message ids: a re-run or a duplicate enqueue of the same burst finds its turn.
    burst_key         text NOT NULL,
    message_ids       uuid[] NOT NULL CHECK (cardinality(message_ids) > 0),
    text              text NOT NULL,
    first_message_at  timestamptz NOT NULL,
    last_message_at   timestamptz NOT NULL,
    -- When the burst's window closed (coalesce-turn ran): latencies count from here.
    window_closed_at  timestamptz NOT NULL,
    understanding     jsonb,
    -- The sentence vectors retrieve-context searches with (float32 little-endian, 384 per query), from understand-turn.
    query_vectors     bytea,
    retrieval         jsonb,
    order_id          uuid,
    -- The order as this turn left it (its lines then; the order itself moves on with later turns and people's edits).
    order_snapshot    jsonb,
    order_outcome     text,
    decision          text CHECK (decision IN ('reply', 'draft', 'handoff', 'superseded')),
    reason            text,
    draft             text,
    reply_message_id  uuid,
    -- For a superseded turn: the turn whose answer covered it.
    answered_by       uuid,
    decided_at        timestamptz,
    -- Per stage: {job, attempt, startedAt, ms}.
    stages            jsonb NOT NULL DEFAULT '{}',
    created_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, burst_key),
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX conversation_turns_conversation ON conversation_turns (tenant_id, conversation_id, first_message_at);

-- An inbound message belongs to at most one turn.
ALTER TABLE messages ADD COLUMN turn_id uuid;
CREATE INDEX messages_unturned ON messages (tenant_id, conversation_id) WHERE direction = 'inbound' AND turn_id IS NULL;

-- A reply dropped because the customer wrote again before it went out.
ALTER TABLE messages DROP CONSTRAINT messages_send_state_check;
ALTER TABLE messages ADD CONSTRAINT messages_send_state_check
    CHECK (send_state IN ('queued', 'sending', 'uncertain', 'sent', 'failed', 'superseded'));

SELECT switchboard_isolate_tenant_table(t) FROM unnest(ARRAY['pipeline_settings', 'conversation_turns']::regclass[]) AS t;
