-- 0006_orders: order drafts extracted from customers' turns (or sent as WhatsApp catalogue orders), reviewed and
-- confirmed by people. Amounts are in the tenant's currency unless `currency` says otherwise (a catalogue order
-- carries its own).

-- One order. A conversation has at most one open draft (PENDING or REVIEW): a later turn amends it.
CREATE TABLE orders (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    conversation_id  uuid,
    status           text NOT NULL CHECK (status IN ('PENDING', 'REVIEW', 'CONFIRMED', 'REJECTED')),
    requires_review  boolean NOT NULL,
    -- Mean line confidence, 0–1; invalid only with a warning and confidence ≤ 0.6.
    confidence       real NOT NULL CHECK (confidence >= 0 AND confidence <= 1),
    is_valid         boolean NOT NULL,
    total            numeric(14, 2) NOT NULL DEFAULT 0,
    currency         text,
    -- The warnings (text), and the products the catalogue lacks ({text, quantity, unit, suggestions}).
    warnings         jsonb NOT NULL DEFAULT '[]',
    unmatched        jsonb NOT NULL DEFAULT '[]',
    -- 'text' (extracted from messages) or 'catalog' (a WhatsApp catalogue order).
    source           text NOT NULL CHECK (source IN ('text', 'catalog')),
    -- Bumped by every change: extraction, amendment, a person's edit, confirmation.
    version          integer NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    decided_at       timestamptz,
    decided_by       text,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations (tenant_id, id) ON DELETE SET NULL (conversation_id)
);
CREATE UNIQUE INDEX orders_one_open_draft ON orders (tenant_id, conversation_id)
    WHERE status IN ('PENDING', 'REVIEW') AND conversation_id IS NOT NULL;
CREATE INDEX orders_status ON orders (tenant_id, status, created_at DESC);

-- The lines of an order, in order. An ambiguous line has no product: sku is null and candidates lists the SKUs a
-- person chooses from.
CREATE TABLE order_lines (
    tenant_id      uuid NOT NULL,
    order_id       uuid NOT NULL,
    position       integer NOT NULL CHECK (position >= 1),
    product_id     uuid,
    sku            text,
    name           text NOT NULL,
    customer_text  text NOT NULL,
    quantity       numeric(12, 3) NOT NULL CHECK (quantity > 0),
    unit           text,
    unit_price     numeric(12, 2),
    line_total     numeric(14, 2),
    confidence     real NOT NULL CHECK (confidence >= 0 AND confidence <= 1),
    match          text NOT NULL,
    candidates     text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, order_id, position),
    FOREIGN KEY (tenant_id, order_id) REFERENCES orders (tenant_id, id) ON DELETE CASCADE
);

-- Each turn applied to an order, once: the key the extract-order job checks so a re-run changes nothing.
CREATE TABLE order_sources (
    tenant_id    uuid NOT NULL,
    turn_key     text NOT NULL CHECK (turn_key <> ''),
    order_id     uuid NOT NULL,
    message_ids  uuid[] NOT NULL,
    applied_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, turn_key),
    FOREIGN KEY (tenant_id, order_id) REFERENCES orders (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX order_sources_order ON order_sources (tenant_id, order_id);

SELECT switchboard_isolate_tenant_table(t) FROM unnest(ARRAY['orders', 'order_lines', 'order_sources']::regclass[]) AS t;
