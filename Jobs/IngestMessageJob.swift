import FoundationEssentials
import Logging
import SwitchboardPostgres
import SwitchboardQueue
import SwitchboardStore
import SwitchboardJSON
import SwitchboardConversations

/// Stores one inbound message: customer and identities, the open conversation, the message. Idempotent: a re-run
/// (a provider retry that slipped past the queue's unique key, or a worker that died after the commit) inserts
/// nothing, because messages are unique per (tenant, channel, provider message id).
///
/// A stored inbound message that carries something to answer (text, a button or list reply, media, a catalogue order)
/// enqueues `coalesce-turn` with its completion, debounced per conversation with collect: the burst's messages become
/// one turn (``CoalesceTurn``).
struct IngestMessageJob: PipelineStage {
    let db: PostgresClient
    let settings: PipelineSettingsStore
    let pipeline: Pipeline

    init(_ pipeline: Pipeline) { (db, settings, self.pipeline) = (pipeline.db, pipeline.settings, pipeline) }

    /// What the job did, for logs and tests.
    enum Outcome: String, Sendable { case stored, duplicate }

    /// Inbound message types that start or join a turn (reactions, system notices and unsupported types do not).
    static let turnTypes: Set<String> = [
        "text", "image", "audio", "video", "document", "sticker", "location", "contacts", "interactive", "button", "order", "email",
    ]

    func run(_ p: IngestMessage, context: JobContext) async throws {
        let stored: Stored
        do { stored = try await ingest(p, logger: context.logger) } catch let refused as DoNotRetry {
            await clearMark(p, context: context)
            throw refused
        }
        // Stored (committed): the burst no longer waits for it. Before the completion enqueues its coalesce-turn; a
        // coalesce running in between finds the message unturned in the conversation and takes it along.
        await clearMark(p, context: context)
        guard let message = stored.message, Self.turnTypes.contains(stored.type) else { return }
        let s = try await settings.settings(tenant: p.tenant)
        // A message that ends the burst by itself closes the window at once; the burst's earlier messages come with it.
        let window: Duration = s.flushTypes.contains(stored.type) ? .milliseconds(1) : s.burstWindow
        var options = pipeline.successorOptions()
        options.debounce = DebounceOptions(
            key: CoalesceTurn.debounceKey(tenant: p.tenant, conversation: stored.conversation), window: window, maxWait: s.burstMaxWait,
            collect: true)
        try context.enqueueOnSuccess(
            CoalesceTurn(tenant: p.tenant, conversation: stored.conversation, message: message, sender: p.intakeMark?.sender), options: options)
        // More than `summary_every` messages since the last summary: summarise up to this one (once per starting point).
        if let seq = stored.seq, seq - stored.summarizedThrough > s.summaryEvery {
            try context.enqueueOnSuccess(
                SummarizeConversation(tenant: p.tenant, conversation: stored.conversation, through: seq),
                options: pipeline.successorOptions(
                    SummarizeConversation.options(tenant: p.tenant, conversation: stored.conversation, after: stored.summarizedThrough)))
        }
    }

    /// Clears the message's intake mark; a failure only leaves it to go stale (bursts wait at most their max wait).
    func clearMark(_ p: IngestMessage, context: JobContext) async {
        guard let mark = p.intakeMark else { return }
        do { try await IntakeMarks(redis: pipeline.queue.redis).clear(mark) } catch {
            context.logger.notice("intake mark not cleared: \(error)")
        }
    }

    /// What ingest stored: the message (nil when it is already in a turn: a duplicate of an answered message), its
    /// type and conversation.
    struct Stored: Sendable {
        var outcome: Outcome
        var message: UUID?
        var type: String
        var conversation: UUID
        /// The message's position in the conversation (nil for a duplicate) and the last position summarised.
        var seq: Int? = nil
        var summarizedThrough = 0
    }

    func ingest(_ p: IngestMessage, logger: Logger) async throws -> Stored {
        let message: InboundMessage
        do {
            switch p.provider {
            case .whatsapp: message = try .whatsapp(p.event, contact: p.contact)
            case .twilio: message = try .twilio(p.event)
            case .email: message = try .email(p.event)
            }
        } catch let error as UnparseableEvent {
            throw DoNotRetry(error.description)
        }
        let raw = try Self.rawJSON(p.event, provider: p.provider)
        let media = try message.media.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        let stored = try await db.withTenant(p.tenant) { conn -> Stored in
            let customer = try Self.customer(for: message, tenant: p.tenant, conn: conn)
            let at = message.sentAt ?? Date(timeIntervalSince1970: Double(p.receivedAtMs) / 1000)
            let (conversation, summarizedThrough) = try Self.openConversation(
                tenant: p.tenant, customer: customer, channel: p.channel, at: at, conn: conn)
            let inserted = try conn.query(
                """
                INSERT INTO messages (tenant_id, channel_id, conversation_id, provider_message_id, direction, type, text, media,
                                      reply_to_provider_id, raw, sent_at)
                VALUES ($1, $2, $3, $4, 'inbound', $5, $6, $7, $8, $9, $10)
                ON CONFLICT (tenant_id, channel_id, provider_message_id) DO NOTHING
                RETURNING id, seq
                """,
                [
                    .uuid(p.tenant), .uuid(p.channel), .uuid(conversation), .text(message.providerMessageID), .text(message.type),
                    message.text.map(PostgresValue.text) ?? .null, media.map(PostgresValue.jsonb) ?? .null,
                    message.replyTo.map(PostgresValue.text) ?? .null, .jsonb(raw), message.sentAt.map(PostgresValue.timestamp) ?? .null,
                ])
            if let row = inserted.first {
                return Stored(
                    outcome: .stored, message: try row.decode("id"), type: message.type, conversation: conversation, seq: try row.decode("seq"),
                    summarizedThrough: summarizedThrough)
            }
            // Stored before: by a run that crashed before its completion (its turn is still to come), or a provider's
            // retry. Only a message that is in no turn yet goes on to coalescing.
            let earlier = try conn.query(
                "SELECT id, conversation_id, turn_id FROM messages WHERE tenant_id = $1 AND channel_id = $2 AND provider_message_id = $3",
                [.uuid(p.tenant), .uuid(p.channel), .text(message.providerMessageID)]
            ).first
            guard let earlier, try earlier.decodeIfPresent("turn_id", as: UUID.self) == nil else {
                return Stored(outcome: .duplicate, message: nil, type: message.type, conversation: conversation)
            }
            return Stored(
                outcome: .duplicate, message: try earlier.decode("id"), type: message.type, conversation: try earlier.decode("conversation_id"))
        }
        logger.info(
            "message ingested",
            metadata: ["outcome": "\(stored.outcome.rawValue)", "type": "\(message.type)", "conversation": "\(stored.conversation)"])
        return stored
    }

    /// The customer owning any of the message's identities, created with all of them if none does. An advisory lock
    /// on the first identity serialises a burst of messages from a new customer, so the burst makes one customer.
    static func customer(for message: InboundMessage, tenant: UUID, conn: PostgresConnection) throws -> UUID {
        let first = message.identities[0]
        try conn.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [.text("\(tenant):\(first.kind):\(first.value)")])
        var customer: UUID? = nil
        for identity in message.identities {
            let rows = try conn.query(
                "SELECT customer_id FROM customer_identities WHERE tenant_id = $1 AND kind = $2 AND value = $3",
                [.uuid(tenant), .text(identity.kind), .text(identity.value)])
            if let row = rows.first {
                customer = try row.decode("customer_id", as: UUID.self)
                break
            }
        }
        if customer == nil {
            let rows = try conn.query(
                "INSERT INTO customers (tenant_id, display_name) VALUES ($1, $2) RETURNING id",
                [.uuid(tenant), message.displayName.map(PostgresValue.text) ?? .null])
            customer = try rows.first?.decode("id", as: UUID.self)
        } else if let name = message.displayName {
            try conn.execute(
                "UPDATE customers SET display_name = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2 AND display_name IS DISTINCT FROM $3",
                [.uuid(tenant), .uuid(customer!), .text(name)])
        }
        guard let customer else { throw PostgresError(.decoding, "INSERT INTO customers returned no id") }
        for identity in message.identities {
            try conn.execute(
                "INSERT INTO customer_identities (tenant_id, customer_id, kind, value) VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, kind, value) DO NOTHING",
                [.uuid(tenant), .uuid(customer), .text(identity.kind), .text(identity.value)])
        }
        return customer
    }

    /// The customer's open conversation on the channel, opened if there is none; its last activity moves forward.
    /// Returns it with the last position its summaries cover. A conversation opened for a returning customer takes over
    /// the order draft the customer's expired conversation left pending, so the customer can go on with it.
    static func openConversation(
        tenant: UUID, customer: UUID, channel: UUID, at: Date, conn: PostgresConnection
    ) throws -> (id: UUID, summarizedThrough: Int) {
        let rows = try conn.query(
            """
            INSERT INTO conversations (tenant_id, customer_id, channel_id, last_activity_at) VALUES ($1, $2, $3, $4)
            ON CONFLICT (tenant_id, customer_id, channel_id) WHERE status IN ('open', 'handoff')
            DO UPDATE SET last_activity_at = greatest(conversations.last_activity_at, excluded.last_activity_at)
            RETURNING id, summarized_through, (xmax = 0) AS created
            """,
            [.uuid(tenant), .uuid(customer), .uuid(channel), .timestamp(at)])
        guard let row = rows.first else { throw PostgresError(.decoding, "no conversation id returned") }
        let id: UUID = try row.decode("id")
        if try row.decode("created", as: Bool.self) {
            try conn.execute(
                """
                UPDATE orders SET conversation_id = $3, updated_at = now()
                WHERE tenant_id = $1 AND status IN ('PENDING', 'REVIEW')
                  AND id = (SELECT (previous_pending_action->>'order_id')::uuid FROM customers WHERE tenant_id = $1 AND id = $2)
                  AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.tenant_id = $1 AND o.conversation_id = $3 AND o.status IN ('PENDING', 'REVIEW'))
                """, [.uuid(tenant), .uuid(customer), .uuid(id)])
        }
        return (id, try row.decode("summarized_through"))
    }

    /// The event as stored in `messages.raw`: as received, except email attachment contents (kept out of the row).
    static func rawJSON(_ event: JSONValue, provider: Provider) throws -> String {
        var value = event
        if provider == .email, case .object(var mail) = event, case .array(let attachments)? = mail["Attachments"] {
            mail["Attachments"] = .array(
                attachments.map { a in
                    guard case .object(var o) = a else { return a }
                    o["Content"] = nil
                    return .object(o)
                })
            value = .object(mail)
        }
        return String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
    }
}
