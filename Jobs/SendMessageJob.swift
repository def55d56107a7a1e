public import FoundationEssentials
public import Logging
public import SwitchboardQueue
public import SwitchboardPostgres
import SwitchboardProviders
import SwitchboardConversations
public import SwitchboardStore

/// `send-message`: sends one outbound message (a row of `messages` that exists before the job, `send_state`
/// 'queued') through its channel: WhatsApp Cloud API or Twilio. Never twice silently:
/// - the row is marked 'sending' (committed) before the request, and 'sent' with the provider's id after it;
/// - the request carries our reference (WhatsApp `biz_opaque_callback_data`, Twilio's StatusCallback `sb_ref`), so
///   the provider's status webhook finds the row even when the answer was never recorded (a crash in between);
/// - a run that finds the row 'sending' or 'uncertain' checks for such a status first; with none, it waits (the job is
///   rescheduled) up to ``OutboundSettings/uncertainWait`` after the send began, and only then sends again — logged
///   as a warning and counted in `resends`;
/// - a WhatsApp reply is refused (not retried) when the customer last wrote more than 24 hours ago.
public struct SendMessage: JobParameters, JobLogMetadata {
    public static let jobName = "send-message"
    public static var queue: String { "outbound" }
    public static var timeout: Duration { .seconds(60) }

    public let tenant: UUID
    public let message: UUID

    public init(tenant: UUID, message: UUID) { (self.tenant, self.message) = (tenant, message) }

    public var lockKey: String? { "send:\(message)" }
    public var logMetadata: Logger.Metadata { ["tenant": "\(tenant)", "message": "\(message)"] }
    public var enqueueOptions: JobOptions {
        var options = JobOptions()
        options.unique = UniqueOptions(key: "send-message:\(message)", mode: .whileActive)
        return options
    }

    /// Stores an outbound text in a conversation, ready for this job (send_state 'queued', a fresh reference, which
    /// also stands in as the provider id until the provider gives its own). Returns the message id.
    public static func store(_ text: String, replyTo: String? = nil, tenant: UUID, conversation: UUID, db: PostgresClient) async throws -> UUID {
        try await db.withTenant(tenant) { conn in try insert(text, replyTo: replyTo, tenant: tenant, conversation: conversation, conn: conn) }
    }

    /// ``store(_:replyTo:tenant:conversation:db:)`` in the caller's transaction.
    public static func insert(_ text: String, replyTo: String? = nil, tenant: UUID, conversation: UUID, conn: PostgresConnection) throws -> UUID {
        let reference = "sb-\(UUID().uuidString.lowercased())"
        return try conn.query(
            """
            INSERT INTO messages (tenant_id, channel_id, conversation_id, provider_message_id, direction, type, text, reply_to_provider_id,
                                  raw, send_state, send_reference)
            SELECT $1, channel_id, id, $2, 'outbound', 'text', $3, $4, '{}', 'queued', $2 FROM conversations WHERE id = $5
            RETURNING id
            """, [.uuid(tenant), .text(reference), .text(text), replyTo.map(PostgresValue.text) ?? .null, .uuid(conversation)]
        ).first?.decode("id") ?? { throw DoNotRetry("no conversation \(conversation) for this tenant") }()
    }
}

/// How replies go out: endpoints (tests point them at local servers), the wait before resending an uncertain send,
/// and where Twilio posts statuses.
public struct OutboundSettings: Sendable {
    public var whatsappBaseURL = "https://graph.facebook.com"
    public var whatsappVersion = "v21.0"
    public var twilioBaseURL = "https://api.twilio.com"
    /// `PUBLIC_URL`: Twilio's StatusCallback is `{publicURL}/webhooks/twilio`.
    public var publicURL: String?
    /// How long an uncertain send waits for the provider's status before it is sent again. Default 10 minutes.
    public var uncertainWait: Duration = .seconds(600)
    /// The channel secrets' key; nil in a worker that cannot send.
    public var secretBox: SecretBox?
    public var testFault: TestFault?

    public init() {}
}

struct SendMessageStage: PipelineStage {
    let pipeline: Pipeline
    init(_ pipeline: Pipeline) { self.pipeline = pipeline }

    struct Row: Sendable {
        let state: String
        let reference: String
        let startedAt: Date?
        let text: String
        let replyTo: String?
        let channel: UUID
        let conversation: UUID
        let recipient: String?
        let lastInbound: Date?
        let statusSeen: String?
    }

    /// What a run did, for logs and tests.
    enum Outcome: String { case sent, alreadySent, resolvedByStatus, superseded }

    func run(_ p: SendMessage, context: JobContext) async throws {
        let outcome = try await send(p, context: context)
        context.logger.info("outbound message \(outcome.rawValue)")
    }

    /// For the answer of a pipeline turn: whether the customer wrote after the turn; if so the message is marked
    /// 'superseded' (and its turn too), fenced like every write of this job.
    func supersededByNewerMessage(_ p: SendMessage, context: JobContext) async throws -> Bool {
        try await pipeline.db.withTenant(p.tenant, fencedBy: context) { conn in
            guard
                let id = try conn.query("SELECT id FROM conversation_turns WHERE reply_message_id = $1", [.uuid(p.message)]).first?.decode(
                    "id", as: UUID.self),
                let turn = try TurnStore.load(id: id, conn: conn), turn.decision == .reply,
                try TurnStore.hasNewerInbound(than: turn, tenant: p.tenant, conn: conn)
            else { return false }
            try conn.execute("UPDATE messages SET send_state = 'superseded' WHERE id = $1 AND send_state = 'queued'", [.uuid(p.message)])
            try conn.execute(
                "UPDATE conversation_turns SET decision = 'superseded', reason = 'newer_message' WHERE id = $1", [.uuid(id)])
            return true
        }
    }

    func send(_ p: SendMessage, context: JobContext) async throws -> Outcome {
        let db = pipeline.db
        let settings = pipeline.outbound
        guard let row = try await load(p) else { throw DoNotRetry("no outbound message \(p.message) for this tenant") }
        switch row.state {
        case "sent": return .alreadySent
        case "failed": throw DoNotRetry("the message failed before; send a new one")
        case "superseded": return .superseded
        case "sending", "uncertain":
            if row.statusSeen != nil {
                try await markSentByStatus(p)
                return .resolvedByStatus
            }
            let waited = Date().timeIntervalSince(row.startedAt ?? .distantPast)
            let left = settings.uncertainWait - .milliseconds(Int64(waited * 1000))
            if left > .zero {
                try await db.withTenant(p.tenant, fencedBy: context) { conn in
                    try conn.execute("UPDATE messages SET send_state = 'uncertain' WHERE id = $1 AND send_state = 'sending'", [.uuid(p.message)])
                }
                throw RetryLater(after: min(left, .seconds(30)), "the last send may have gone out; waiting for the provider's status")
            }
            context.logger.warning(
                "sending again: no status arrived for an uncertain send",
                metadata: ["waited": "\(Int(waited)) s", "reference": "\(row.reference)"])
        default:
            // The newer-message guard, right before sending: a turn's answer the customer wrote past is dropped (the
            // next turn answers everything).
            if try await supersededByNewerMessage(p, context: context) { return .superseded }
        }
        guard let box = settings.secretBox,
            let (channel, secrets) = try await ChannelDirectory(db: db, secretBox: box).channel(id: row.channel, tenant: p.tenant)
        else { throw DoNotRetry("this worker cannot open channel secrets (SWITCHBOARD_SECRET_KEY), or the channel is gone") }
        guard let recipient = row.recipient else { throw DoNotRetry("the customer has no address on this channel's provider") }
        if channel.kind == .whatsapp, (row.lastInbound.map { Date().timeIntervalSince($0) > 24 * 3600 } ?? true) {
            try await markFailed(p, context: context, reason: "outside the 24-hour customer-service window")
            throw DoNotRetry(MessageSendError(provider: "whatsapp", status: nil, kind: .outsideWindow, code: nil).description)
        }
        let resend = row.state == "sending" || row.state == "uncertain"
        try await db.withTenant(p.tenant, fencedBy: context) { conn in
            try conn.execute(
                """
                UPDATE messages SET send_state = 'sending', send_started_at = now(), send_error = NULL,
                    resends = resends + CASE WHEN $2 THEN 1 ELSE 0 END
                WHERE id = $1
                """, [.uuid(p.message), .bool(resend)])
        }
        let text = OutboundText(to: recipient, body: row.text, replyTo: row.replyTo, reference: row.reference)
        let providerID: String
        do {
            switch channel.kind {
            case .whatsapp:
                guard let token = secrets.accessToken else {
                    throw DoNotRetry("the WhatsApp channel has no access token: switchboard channels add --access-token")
                }
                providerID = try await WhatsAppCloudSender(
                    http: pipeline.http, phoneNumberID: channel.address, accessToken: token, baseURL: settings.whatsappBaseURL,
                    version: settings.whatsappVersion
                ).send(text)
            case .twilio:
                guard let sid = secrets.accountSID, let token = secrets.authToken else {
                    throw DoNotRetry("the Twilio channel has no account SID and auth token: switchboard channels add --account-sid")
                }
                providerID = try await TwilioSender(
                    http: pipeline.http, accountSID: sid, authToken: token, from: channel.address,
                    statusCallback: settings.publicURL.map { $0 + "/webhooks/twilio" }, baseURL: settings.twilioBaseURL
                ).send(text)
            case .email:
                throw DoNotRetry("replies by email are not sent by this job")
            }
        } catch let error as MessageSendError {
            switch error.kind {
            case .rejected, .unauthorized, .outsideWindow:
                try await markFailed(p, context: context, reason: error.description)
                throw DoNotRetry(error.description)
            case .notTaken, .unreachable:
                try await db.withTenant(p.tenant, fencedBy: context) { conn in
                    try conn.execute(
                        "UPDATE messages SET send_state = 'queued', send_error = $2 WHERE id = $1", [.uuid(p.message), .text(error.description)])
                }
                throw error
            case .uncertain:
                try await db.withTenant(p.tenant, fencedBy: context) { conn in
                    try conn.execute(
                        "UPDATE messages SET send_state = 'uncertain', send_error = $2 WHERE id = $1", [.uuid(p.message), .text(error.description)])
                }
                throw RetryLater(after: min(settings.uncertainWait, .seconds(30)), error.description)
            }
        }
        settings.testFault?.hit(.afterSend)
        try await db.withTenant(p.tenant, fencedBy: context) { conn in
            // A status may have come first (by our reference, or already under the provider's id): the row takes the highest.
            try conn.execute(
                """
                UPDATE messages SET provider_message_id = $2, send_state = 'sent', sent_at = coalesce(sent_at, now()),
                    provider_status = coalesce((
                        SELECT e.status FROM message_status_events e
                        WHERE e.provider_message_id = $2 OR e.send_reference = messages.send_reference
                        ORDER BY (e.status = 'failed') DESC, switchboard_status_rank(e.status) DESC LIMIT 1), provider_status, 'accepted'),
                    status_updated_at = now()
                WHERE id = $1
                """, [.uuid(p.message), .text(providerID)])
        }
        return .sent
    }

    private func load(_ p: SendMessage) async throws -> Row? {
        try await pipeline.db.withTenant(p.tenant) { conn in
            try conn.query(
                """
                SELECT m.send_state, m.send_reference, m.send_started_at, m.text, m.reply_to_provider_id, m.channel_id, m.conversation_id,
                       (SELECT i.value FROM customer_identities i JOIN conversations c ON c.customer_id = i.customer_id
                        WHERE c.id = m.conversation_id AND i.kind IN ('wa_id', 'phone') ORDER BY i.kind = 'wa_id' DESC, i.created_at LIMIT 1) AS recipient,
                       (SELECT max(coalesce(x.sent_at, x.created_at)) FROM messages x
                        WHERE x.conversation_id = m.conversation_id AND x.direction = 'inbound') AS last_inbound,
                       (SELECT e.status FROM message_status_events e
                        WHERE e.send_reference = m.send_reference OR e.provider_message_id = m.provider_message_id LIMIT 1) AS status_seen
                FROM messages m WHERE m.id = $1 AND m.direction = 'outbound'
                """, [.uuid(p.message)]
            ).first.map { r in
                Row(
                    state: try r.decodeIfPresent("send_state") ?? "queued", reference: try r.decodeIfPresent("send_reference") ?? "",
                    startedAt: try r.decodeIfPresent("send_started_at"), text: try r.decodeIfPresent("text") ?? "",
                    replyTo: try r.decodeIfPresent("reply_to_provider_id"), channel: try r.decode("channel_id"),
                    conversation: try r.decode("conversation_id"),
                    recipient: try r.decodeIfPresent("recipient"), lastInbound: try r.decodeIfPresent("last_inbound"),
                    statusSeen: try r.decodeIfPresent("status_seen"))
            }
        }
    }

    private func markSentByStatus(_ p: SendMessage) async throws {
        try await pipeline.db.withTenant(p.tenant) { conn in
            try conn.execute("UPDATE messages SET send_state = 'sent' WHERE id = $1 AND send_state IN ('sending', 'uncertain')", [.uuid(p.message)])
        }
    }

    private func markFailed(_ p: SendMessage, context: JobContext, reason: String) async throws {
        try await pipeline.db.withTenant(p.tenant, fencedBy: context) { conn in
            try conn.execute("UPDATE messages SET send_state = 'failed', send_error = $2 WHERE id = $1", [.uuid(p.message), .text(reason)])
        }
    }
}
