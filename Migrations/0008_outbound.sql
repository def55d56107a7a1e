-- 0008_outbound: replies going out. An outbound message row exists before its send-message job (send_state
-- 'queued'); the job marks it 'sending' before the request and 'sent' (with the provider's id) after it. A send that
-- may have left without its answer being recorded is 'uncertain' until the provider's status webhook resolves it by
-- our own reference (WhatsApp biz_opaque_callback_data, Twilio's StatusCallback URL); it is sent again only after a
-- bounded wait with no status, and that is counted in resends.

ALTER TABLE messages
    ADD COLUMN send_state text CHECK (send_state IN ('queued', 'sending', 'uncertain', 'sent', 'failed')),
    ADD COLUMN send_reference text,
    ADD COLUMN send_started_at timestamptz,
    ADD COLUMN send_error text,
    ADD COLUMN resends integer NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX messages_send_reference ON messages (tenant_id, send_reference) WHERE send_reference IS NOT NULL;

-- A status can name our reference (and arrive before the send is recorded): keep it so the send can find it.
ALTER TABLE message_status_events ADD COLUMN send_reference text;
CREATE INDEX message_status_events_reference ON message_status_events (tenant_id, send_reference) WHERE send_reference IS NOT NULL;
