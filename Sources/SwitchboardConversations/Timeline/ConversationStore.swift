public import FoundationEssentials
public import SwitchboardPostgres
import SwitchboardOrders
import SwitchboardStore

/// A person's view of conversations and their commands (operator access across tenants): list, the timeline, release
/// from handoff, send a turn's draft.
public struct ConversationStore: Sendable {
    public let db: PostgresClient
    public init(db: PostgresClient) { self.db = db }

    public struct Summary: Sendable, Codable {
        public var id: UUID
        public var tenantID: UUID
        public var customerName: String?
        public var channelKind: String
        public var status: String
        public var handoffReason: String?
        public var turns: Int
        public var messages: Int
        public var lastActivityAt: Date
    }

    /// Conversations, most recently active first.
    public func list(tenant: UUID?, status: String?, limit: Int = 50) async throws -> [Summary] {
        try await db.withSystemAccess { conn in
            try conn.query(
                """
                SELECT c.id, c.tenant_id, cu.display_name, ch.kind, c.status, c.handoff_reason, c.last_activity_at,
                       (SELECT count(*)::int FROM conversation_turns t WHERE t.conversation_id = c.id) AS turns,
                       (SELECT count(*)::int FROM messages m WHERE m.conversation_id = c.id) AS messages
                FROM conversations c JOIN customers cu ON cu.id = c.customer_id JOIN channels ch ON ch.id = c.channel_id
                WHERE ($1::uuid IS NULL OR c.tenant_id = $1) AND ($2::text IS NULL OR c.status = $2)
                ORDER BY c.last_activity_at DESC, c.id LIMIT $3
                """, [tenant.map(PostgresValue.uuid) ?? .null, status.map(PostgresValue.text) ?? .null, .int(Int64(limit))]
            ).map { r in
                Summary(
                    id: try r.decode("id"), tenantID: try r.decode("tenant_id"), customerName: try r.decodeIfPresent("display_name"),
                    channelKind: try r.decode("kind"), status: try r.decode("status"), handoffReason: try r.decodeIfPresent("handoff_reason"),
                    turns: try r.decode("turns"), messages: try r.decode("messages"), lastActivityAt: try r.decode("last_activity_at"))
            }
        }
    }

    /// The conversation's timeline; nil when there is no such conversation.
    public func timeline(id: UUID) async throws -> ConversationTimeline? {
        try await db.withSystemAccess { conn -> ConversationTimeline? in
            // Turns, then messages, then the conversation: a decision seen in a turn is seen in the conversation's
            // status too (each statement sees what committed before it).
            let turns = try TurnStore.turns(conversation: id, conn: conn)
            let messages = try conn.query(
                """
                SELECT id, direction, provider_message_id, type, text, sent_at, created_at, turn_id, send_state, provider_status
                FROM messages WHERE conversation_id = $1 ORDER BY created_at, id
                """, [.uuid(id)]
            ).map { m in
                ConversationTimeline.Message(
                    id: try m.decode("id"), direction: try m.decode("direction"), providerMessageID: try m.decode("provider_message_id"),
                    type: try m.decode("type"), text: try m.decodeIfPresent("text"), sentAt: try m.decodeIfPresent("sent_at"),
                    createdAt: try m.decode("created_at"), turnID: try m.decodeIfPresent("turn_id"), sendState: try m.decodeIfPresent("send_state"),
                    providerStatus: try m.decodeIfPresent("provider_status"))
            }
            guard
                let c = try conn.query(
                    """
                    SELECT c.id, c.tenant_id, c.customer_id, cu.display_name, ch.kind, c.status, c.handoff_reason, c.low_confidence_streak,
                           c.last_activity_at, c.created_at
                    FROM conversations c JOIN customers cu ON cu.id = c.customer_id JOIN channels ch ON ch.id = c.channel_id
                    WHERE c.id = $1
                    """, [.uuid(id)]
                ).first
            else { return nil }
            let conversation = ConversationTimeline.Conversation(
                id: try c.decode("id"), tenantID: try c.decode("tenant_id"), customerID: try c.decode("customer_id"),
                customerName: try c.decodeIfPresent("display_name"), channelKind: try c.decode("kind"), status: try c.decode("status"),
                handoffReason: try c.decodeIfPresent("handoff_reason"), lowConfidenceStreak: try c.decode("low_confidence_streak"),
                lastActivityAt: try c.decode("last_activity_at"), createdAt: try c.decode("created_at"))
            let orders = Dictionary(
                try OrderStore.load(ids: Array(Set(turns.compactMap(\.orderID))), conn: conn).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            let cost = try conn.query(
                """
                SELECT count(*)::int AS calls, count(*) FILTER (WHERE provider <> 'embedded')::int AS hosted,
                       coalesce(sum(cost_micro_cents), 0)::int8 AS cost
                FROM llm_calls WHERE conversation_id = $1
                """, [.uuid(id)])[0]
            return ConversationTimeline(
                conversation: conversation, messages: messages,
                turns: turns.map { ConversationTimeline.Turn($0, messages: messages, order: $0.orderID.flatMap { orders[$0] }) },
                aiCost: .init(calls: try cost.decode("calls"), hostedCalls: try cost.decode("hosted"), costMicroCents: try cost.decode("cost")))
        }
    }

    /// The latest conversation of the tenant's customer with this address (a WhatsApp id, a phone, an email).
    public func conversationID(tenant: UUID, customerAddress: String) async throws -> UUID? {
        try await db.withTenant(tenant) { conn in
            try conn.query(
                """
                SELECT c.id FROM conversations c JOIN customer_identities i ON i.customer_id = c.customer_id
                WHERE i.value = $1 ORDER BY c.created_at DESC LIMIT 1
                """, [.text(customerAddress)]
            ).first?.decode("id", as: UUID.self)
        }
    }

    /// One turn and its conversation's tenant; nil when there is no such turn.
    public func turn(id: UUID) async throws -> (tenant: UUID, turn: ConversationTurn)? {
        try await db.withSystemAccess { conn -> (tenant: UUID, turn: ConversationTurn)? in
            guard
                let tenant = try conn.query("SELECT tenant_id FROM conversation_turns WHERE id = $1", [.uuid(id)]).first?.decode(
                    "tenant_id", as: UUID.self),
                let turn = try TurnStore.load(id: id, conn: conn)
            else { return nil }
            return (tenant, turn)
        }
    }

    /// Returns a handed-off conversation to automation (its low-confidence count starts again).
    public func release(id: UUID) async throws {
        try await db.withSystemAccess { conn in
            guard
                let status = try conn.query("SELECT status FROM conversations WHERE id = $1 FOR UPDATE", [.uuid(id)]).first?.decode(
                    "status", as: String.self)
            else { throw ConversationStoreError.notFound(id) }
            guard status == "handoff" else { throw ConversationStoreError.notInHandoff(id, status) }
            try conn.execute(
                "UPDATE conversations SET status = 'open', handoff_reason = NULL, handoff_at = NULL, low_confidence_streak = 0 WHERE id = $1",
                [.uuid(id)])
        }
    }

    /// Stores the latest unsent draft of the conversation as an outbound message (send_state 'queued') and returns the
    /// tenant, the message and the turn; the caller enqueues `send-message`. A draft is used once.
    public func useDraft(conversation id: UUID) async throws -> (tenant: UUID, message: UUID, turn: UUID) {
        try await db.withSystemAccess { conn in
            guard
                let row = try conn.query(
                    """
                    SELECT t.id, t.tenant_id, t.draft FROM conversation_turns t
                    WHERE t.conversation_id = $1 AND t.draft IS NOT NULL AND t.reply_message_id IS NULL
                    ORDER BY t.first_message_at DESC, t.created_at DESC LIMIT 1 FOR UPDATE
                    """, [.uuid(id)]
                ).first
            else { throw ConversationStoreError.noDraft(id) }
            let turn: UUID = try row.decode("id")
            let tenant: UUID = try row.decode("tenant_id")
            let reference = "sb-\(UUID().uuidString.lowercased())"
            let message: UUID = try conn.query(
                """
                INSERT INTO messages (tenant_id, channel_id, conversation_id, provider_message_id, direction, type, text, raw, send_state,
                                      send_reference)
                SELECT tenant_id, channel_id, id, $2, 'outbound', 'text', $3, '{}', 'queued', $2 FROM conversations WHERE id = $1
                RETURNING id
                """, [.uuid(id), .text(reference), .text(try row.decode("draft", as: String.self))]
            )[0].decode("id")
            try conn.execute("UPDATE conversation_turns SET reply_message_id = $2 WHERE id = $1", [.uuid(turn), .uuid(message)])
            return (tenant, message, turn)
        }
    }
}

/// A conversation command that cannot be done, and what to do.
public enum ConversationStoreError: Error, Sendable, CustomStringConvertible, Equatable {
    case notFound(UUID)
    case notInHandoff(UUID, String)
    case noDraft(UUID)

    public var description: String {
        switch self {
        case .notFound(let id): "no conversation \(id); list them with: switchboard conversations list"
        case .notInHandoff(let id, let status): "conversation \(id) is \(status), not in handoff: nothing to release"
        case .noDraft(let id): "conversation \(id) has no unsent draft; write a reply yourself, or wait for the next turn"
        }
    }
}
