-- 0005_intents: a tenant's own intent examples, and the intent model trained on them with the base examples.
-- The base model ships in Models/intents; a tenant row here overrides it for that tenant only.

-- One labelled example. An import adds new (intent, text) pairs and leaves the ones already there.
CREATE TABLE intent_examples (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    intent      text NOT NULL CHECK (intent ~ '^[a-z0-9_]{1,64}$'),
    text        text NOT NULL CHECK (text <> '' AND length(text) <= 2000),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, intent, text)
);

-- The tenant's trained model (the SBINTENT file) and its out-of-scope threshold override.
CREATE TABLE intent_models (
    tenant_id               uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    model                   bytea,
    model_sha256            text,
    manifest                jsonb,
    trained_examples        integer,
    trained_at              timestamptz,
    out_of_scope_threshold  real CHECK (out_of_scope_threshold IS NULL OR (out_of_scope_threshold >= 0 AND out_of_scope_threshold <= 1)),
    updated_at              timestamptz NOT NULL DEFAULT now()
);

SELECT switchboard_isolate_tenant_table(t) FROM unnest(ARRAY['intent_examples', 'intent_models']::regclass[]) AS t;
