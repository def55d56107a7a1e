public import Foundation
public import SwitchboardPostgres

/// Reads and writes ``ConversationContext`` rows and customers' kept memory, in the caller's transaction (decide-turn
/// writes the context with its other writes, under the conversation's fence).
public enum ContextStore {
    static let columns = """
        conversation_id, current_topic, pending_action::text AS pending_action, extracted_entities::text AS extracted_entities,
        last_product_viewed, summary, key_facts::text AS key_facts, last_activity_at, idle_seconds, expires_at, expired_at, restored_from
        """

    public static func load(conversation: UUID, conn: PostgresConnection) throws -> ConversationContext? {
        try conn.query("SELECT \(columns) FROM conversation_context WHERE conversation_id = $1", [.uuid(conversation)]).first.map(decode)
    }

    static func decode(_ row: PostgresRow) throws -> ConversationContext {
        var ctx = ConversationContext(
            conversationID: try row.decode("conversation_id"), lastActivityAt: try row.decode("last_activity_at"),
            idleSeconds: try row.decode("idle_seconds"))
        ctx.currentTopic = try row.decodeIfPresent("current_topic")
        ctx.pendingAction = try json(row, "pending_action", PendingAction.self)
        ctx.extractedEntities = try json(row, "extracted_entities", [String: String].self) ?? [:]
        ctx.lastProductViewed = try row.decodeIfPresent("last_product_viewed")
        ctx.summary = try row.decodeIfPresent("summary")
        ctx.keyFacts = try json(row, "key_facts", KeyFacts.self) ?? KeyFacts()
        ctx.expiresAt = try row.decodeIfPresent("expires_at")
        ctx.expiredAt = try row.decodeIfPresent("expired_at")
        ctx.restoredFrom = try row.decodeIfPresent("restored_from")
        return ctx
    }

    /// Stores the context (insert or replace), with its expiry; the summary column is the summariser's and stays.
    public static func save(_ ctx: ConversationContext, tenant: UUID, conn: PostgresConnection) throws {
        try conn.execute(
            """
            INSERT INTO conversation_context (conversation_id, tenant_id, current_topic, pending_action, extracted_entities,
                last_product_viewed, key_facts, last_activity_at, idle_seconds, expires_at, expired_at, restored_from)
            VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7::jsonb, $8, $9, $10, $11, $12)
            ON CONFLICT (conversation_id) DO UPDATE SET current_topic = $3, pending_action = $4::jsonb, extracted_entities = $5::jsonb,
                last_product_viewed = $6, key_facts = $7::jsonb, last_activity_at = $8, idle_seconds = $9, expires_at = $10,
                expired_at = $11, restored_from = coalesce(conversation_context.restored_from, $12), updated_at = now()
            """,
            [
                .uuid(ctx.conversationID), .uuid(tenant), ctx.currentTopic.map(PostgresValue.text) ?? .null,
                try ctx.pendingAction.map { .text(try encode($0)) } ?? .null, .text(try encode(ctx.extractedEntities)),
                ctx.lastProductViewed.map(PostgresValue.text) ?? .null, .text(try encode(ctx.keyFacts)), .timestamp(ctx.lastActivityAt),
                .int(Int64(ctx.idleSeconds)), ctx.expiresAt.map(PostgresValue.timestamp) ?? .null,
                ctx.expiredAt.map(PostgresValue.timestamp) ?? .null, ctx.restoredFrom.map(PostgresValue.uuid) ?? .null,
            ])
    }

    /// What the conversation's customer kept from an earlier, expired conversation (nil when nothing was kept, or when
    /// it was kept from this very conversation), with the customer's profile name and the conversation's last activity.
    public static func customer(
        of conversation: UUID, conn: PostgresConnection
    ) throws -> (memory: CustomerMemory?, profileName: String?, lastActivityAt: Date) {
        guard
            let row = try conn.query(
                """
                SELECT c.display_name, c.key_facts::text AS key_facts, c.previous_topic, c.previous_pending_action::text AS pending,
                       c.previous_conversation_id, c.memory_kept_at, v.last_activity_at
                FROM conversations v JOIN customers c ON c.tenant_id = v.tenant_id AND c.id = v.customer_id
                WHERE v.id = $1
                """, [.uuid(conversation)]
            ).first
        else { throw PostgresError(.decoding, "no conversation \(conversation) for this tenant") }
        var memory: CustomerMemory? = nil
        if let previous = try row.decodeIfPresent("previous_conversation_id", as: UUID.self), previous != conversation,
            let keptAt = try row.decodeIfPresent("memory_kept_at", as: Date.self)
        {
            memory = CustomerMemory(
                previousConversation: previous, previousTopic: try row.decodeIfPresent("previous_topic"),
                pendingAction: try json(row, "pending", PendingAction.self), keyFacts: try json(row, "key_facts", KeyFacts.self) ?? KeyFacts(),
                keptAt: keptAt)
        }
        return (memory, try row.decodeIfPresent("display_name"), try row.decode("last_activity_at"))
    }

    static func json<T: Decodable>(_ row: PostgresRow, _ column: String, _ type: T.Type) throws -> T? {
        guard let text = try row.decodeIfPresent(column, as: String.self), text != "null" else { return nil }
        return try JSONDecoder().decode(T.self, from: Data(text.utf8))
    }

    static func encode<T: Encodable>(_ value: T) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return String(decoding: try e.encode(value), as: UTF8.self)
    }
}
