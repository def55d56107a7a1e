-- 0009_provider_tokens: a provider key's tokens-per-minute limit, beside its requests per minute (none: no token limit).
ALTER TABLE provider_accounts
    ADD COLUMN tokens_per_minute integer CHECK (tokens_per_minute IS NULL OR tokens_per_minute BETWEEN 100 AND 100000000);
