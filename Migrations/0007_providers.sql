-- 0007_providers: hosted models per tenant (which model each agent uses, with fallbacks; provider keys sealed like
-- channel secrets), every call made to a model (once, whatever the retries), the hourly roll-up, monthly budgets and
-- their alerts.

-- The models an agent of a tenant uses, in order; the embedded models are always the last link and are not listed.
CREATE TABLE provider_settings (
    tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    agent            text NOT NULL CHECK (agent IN ('intent', 'reply', 'summary', 'extraction')),
    default_model    text NOT NULL CHECK (default_model ~ '^[a-z0-9-]+:\S+$'),
    fallback_models  text[] NOT NULL DEFAULT '{}',
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, agent)
);

-- A tenant's account with a provider: the key (sealed with SWITCHBOARD_SECRET_KEY, bound to tenant and provider),
-- an optional base URL (a self-hosted vLLM or Ollama), and its rate limit.
CREATE TABLE provider_accounts (
    tenant_id            uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    provider             text NOT NULL CHECK (provider ~ '^[a-z0-9-]{1,40}$'),
    api                  text NOT NULL CHECK (api IN ('openai-compatible', 'anthropic')),
    base_url             text NOT NULL,
    sealed_key           bytea,
    requests_per_minute  integer NOT NULL CHECK (requests_per_minute BETWEEN 1 AND 100000),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, provider)
);

-- One call to a model. call_key is the job id, its attempt and the call's index in the run, so a retried job records
-- each call it really made and a repeated write of the same call records nothing.
CREATE TABLE llm_calls (
    tenant_id          uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    call_key           text NOT NULL CHECK (call_key <> ''),
    conversation_id    uuid,
    job_id             text,
    agent              text NOT NULL,
    provider           text NOT NULL,
    model              text NOT NULL,
    prompt_tokens      integer NOT NULL DEFAULT 0,
    completion_tokens  integer NOT NULL DEFAULT 0,
    -- In millionths of a cent, from the price table in force (Models/prices.json); 0 for the embedded models.
    cost_micro_cents   bigint NOT NULL DEFAULT 0,
    latency_ms         integer NOT NULL DEFAULT 0,
    outcome            text NOT NULL,
    confidence         real,
    created_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, call_key)
);
CREATE INDEX llm_calls_time ON llm_calls (tenant_id, created_at);

-- The calls summed per tenant, hour, agent and model, written in the same transaction as each call.
CREATE TABLE llm_usage_hourly (
    tenant_id           uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    hour                timestamptz NOT NULL,
    agent               text NOT NULL,
    model               text NOT NULL,
    requests            integer NOT NULL DEFAULT 0,
    successful          integer NOT NULL DEFAULT 0,
    prompt_tokens       bigint NOT NULL DEFAULT 0,
    completion_tokens   bigint NOT NULL DEFAULT 0,
    cost_micro_cents    bigint NOT NULL DEFAULT 0,
    latency_ms_total    bigint NOT NULL DEFAULT 0,
    confidence_total    double precision NOT NULL DEFAULT 0,
    confidence_count    integer NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, hour, agent, model)
);

-- A tenant's monthly spending limit on hosted models, and what happens past it.
CREATE TABLE tenant_budgets (
    tenant_id      uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    monthly_cents  bigint NOT NULL CHECK (monthly_cents >= 0),
    over_policy    text NOT NULL DEFAULT 'embedded-only' CHECK (over_policy IN ('embedded-only', 'block')),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Each budget alert, once per tenant, month and threshold.
CREATE TABLE budget_alerts (
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    month        text NOT NULL CHECK (month ~ '^\d{4}-\d{2}$'),
    threshold    integer NOT NULL CHECK (threshold IN (80, 100)),
    spent_cents  bigint NOT NULL,
    raised_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, month, threshold)
);

SELECT switchboard_isolate_tenant_table(t)
FROM unnest(ARRAY['provider_settings', 'provider_accounts', 'llm_calls', 'llm_usage_hourly', 'tenant_budgets', 'budget_alerts']::regclass[]) AS t;
