import FoundationEssentials
import Logging
import SwitchboardJSON
import SwitchboardPostgres
import SwitchboardQueue
import SwitchboardStore

/// Applies one delivery status. Every status is kept in `message_status_events` (once per message and status),
/// and the message's `provider_status` only moves up the rank accepted < sent < delivered < read, with failed
/// terminal: statuses arrive out of order, and a late "delivered" must never overwrite "read".
struct MessageStatusJob: PipelineStage {
    let db: PostgresClient

    init(_ pipeline: Pipeline) { db = pipeline.db }

    struct Status: Equatable {
        var providerMessageID: String
        var status: String
        var occurredAt: Date?
        var error: String?
        /// Our send's reference, when the status carries it (WhatsApp `biz_opaque_callback_data`, Twilio `sb_ref`).
        var reference: String? = nil
    }

    static func parse(_ p: MessageStatusUpdate) throws -> Status {
        let e = p.event
        switch p.provider {
        case .whatsapp:
            guard let id = e["id"]?.string?.nilIfEmpty, let raw = e["status"]?.string else {
                throw DoNotRetry("a WhatsApp status without id or status")
            }
            let mapped = ["sent": "sent", "delivered": "delivered", "read": "read", "played": "read", "failed": "failed"][raw]
            guard let mapped else { throw DoNotRetry("unknown WhatsApp status \"\(raw)\"") }
            let error = e["errors"]?.elements.first.map { "\($0["code"]?.number.map { String(Int($0)) } ?? "?"): \($0["title"]?.string ?? "")" }
            return Status(
                providerMessageID: id, status: mapped,
                occurredAt: e["timestamp"]?.string.flatMap(Double.init).map { Date(timeIntervalSince1970: $0) },
                error: error, reference: e["biz_opaque_callback_data"]?.string?.nilIfEmpty)
        case .twilio:
            guard let sid = e["MessageSid"]?.string?.nilIfEmpty, let raw = e["MessageStatus"]?.string else {
                throw DoNotRetry("a Twilio status callback without MessageSid or MessageStatus")
            }
            let table = [
                "accepted": "accepted", "queued": "accepted", "sending": "accepted", "sent": "sent", "delivered": "delivered",
                "read": "read", "failed": "failed", "undelivered": "failed",
            ]
            guard let mapped = table[raw] else { throw DoNotRetry("unknown Twilio status \"\(raw)\"") }
            return Status(
                providerMessageID: sid, status: mapped, occurredAt: nil, error: e["ErrorCode"]?.string, reference: e["sb_ref"]?.string?.nilIfEmpty)
        case .email:
            throw DoNotRetry("email has no delivery statuses")
        }
    }

    func run(_ p: MessageStatusUpdate, context: JobContext) async throws {
        try await apply(p, logger: context.logger)
    }

    /// Returns whether the message's status moved.
    @discardableResult
    func apply(_ p: MessageStatusUpdate, logger: Logger) async throws -> Bool {
        let s = try Self.parse(p)
        let raw = String(decoding: try JSONEncoder().encode(p.event), as: UTF8.self)
        let moved = try await db.withTenant(p.tenant) { conn -> Bool in
            try conn.execute(
                """
                INSERT INTO message_status_events (tenant_id, channel_id, provider_message_id, status, occurred_at, error, raw, send_reference)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                ON CONFLICT (tenant_id, channel_id, provider_message_id, status) DO NOTHING
                """,
                [
                    .uuid(p.tenant), .uuid(p.channel), .text(s.providerMessageID), .text(s.status),
                    s.occurredAt.map(PostgresValue.timestamp) ?? .null,
                    s.error.map(PostgresValue.text) ?? .null, .jsonb(raw), s.reference.map(PostgresValue.text) ?? .null,
                ])
            if let reference = s.reference {
                // The status names a send whose answer may never have been recorded: it takes the provider's id and is sent.
                try conn.execute(
                    """
                    UPDATE messages SET provider_message_id = $3, send_state = 'sent', sent_at = coalesce(sent_at, now())
                    WHERE tenant_id = $1 AND send_reference = $2 AND direction = 'outbound'
                      AND (send_state IN ('queued', 'sending', 'uncertain') OR provider_message_id = send_reference)
                    """, [.uuid(p.tenant), .text(reference), .text(s.providerMessageID)])
            }
            return try conn.execute(
                """
                UPDATE messages SET provider_status = $4, status_updated_at = now()
                WHERE tenant_id = $1 AND channel_id = $2 AND provider_message_id = $3
                  AND (provider_status IS NULL
                       OR (provider_status <> 'failed' AND switchboard_status_rank(provider_status) < switchboard_status_rank($4)))
                """,
                [.uuid(p.tenant), .uuid(p.channel), .text(s.providerMessageID), .text(s.status)]) == 1
        }
        logger.info("status applied", metadata: ["status": "\(s.status)", "moved": "\(moved)"])
        return moved
    }
}
