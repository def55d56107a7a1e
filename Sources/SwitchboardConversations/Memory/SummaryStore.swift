public import Foundation
public import SwitchboardPostgres

/// A stored summary of positions `firstSeq...lastSeq` of a conversation.
public struct ConversationSummary: Sendable, Codable, Equatable {
    public var firstSeq: Int
    public var lastSeq: Int
    public var messageCount: Int
    public var summary: String
    /// `extractive` (the embedded summariser) or the hosted model that wrote it.
    public var method: String
    public var createdAt: Date
}

/// Conversation summaries: what is due, the messages of a range, and the stored result, in the caller's transaction.
public enum SummaryStore {
    /// The conversation's message count (its last position) and the last position its summaries cover.
    public static func progress(conversation: UUID, conn: PostgresConnection) throws -> (messages: Int, summarizedThrough: Int)? {
        guard
            let row = try conn.query("SELECT message_count, summarized_through FROM conversations WHERE id = $1", [.uuid(conversation)]).first
        else { return nil }
        return (try row.decode("message_count"), try row.decode("summarized_through"))
    }

    /// The messages with text at positions after `after` up to `through`, in order.
    public static func messages(conversation: UUID, tenant: UUID, after: Int, through: Int, conn: PostgresConnection) throws -> [SummaryMessage] {
        try conn.query(
            """
            SELECT seq, direction, text FROM messages
            WHERE tenant_id = $1 AND conversation_id = $2 AND seq > $3 AND seq <= $4 AND text IS NOT NULL
            ORDER BY seq
            """, [.uuid(tenant), .uuid(conversation), .int(Int64(after)), .int(Int64(through))]
        ).map { row in
            SummaryMessage(
                seq: try row.decode("seq"), inbound: try row.decode("direction", as: String.self) == "inbound", text: try row.decode("text"))
        }
    }

    /// Stores the summary of `first...last` unless that range is summarised already; moves the conversation's
    /// summarised position and puts the newest two summaries in its context. Returns whether it stored anything.
    @discardableResult
    public static func save(
        _ summary: String, method: String, first: Int, last: Int, messageCount: Int, conversation: UUID, tenant: UUID, conn: PostgresConnection
    ) throws -> Bool {
        let inserted = try conn.query(
            """
            INSERT INTO conversation_summaries (tenant_id, conversation_id, first_seq, last_seq, message_count, summary, method)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT (tenant_id, conversation_id, last_seq) DO NOTHING
            RETURNING id
            """,
            [
                .uuid(tenant), .uuid(conversation), .int(Int64(first)), .int(Int64(last)), .int(Int64(messageCount)), .text(summary),
                .text(method),
            ])
        guard !inserted.isEmpty else { return false }
        try conn.execute(
            "UPDATE conversations SET summarized_through = greatest(summarized_through, $2) WHERE id = $1", [.uuid(conversation), .int(Int64(last))])
        try conn.execute(
            """
            UPDATE conversation_context SET summary = (
                SELECT string_agg(summary, E'\n' ORDER BY last_seq) FROM (
                    SELECT summary, last_seq FROM conversation_summaries WHERE conversation_id = $1 ORDER BY last_seq DESC LIMIT 2) s),
                updated_at = now()
            WHERE conversation_id = $1
            """, [.uuid(conversation)])
        return true
    }

    /// The conversation's summaries, oldest first.
    public static func summaries(conversation: UUID, conn: PostgresConnection) throws -> [ConversationSummary] {
        try conn.query(
            """
            SELECT first_seq, last_seq, message_count, summary, method, created_at FROM conversation_summaries
            WHERE conversation_id = $1 ORDER BY last_seq
            """, [.uuid(conversation)]
        ).map { row in
            ConversationSummary(
                firstSeq: try row.decode("first_seq"), lastSeq: try row.decode("last_seq"), messageCount: try row.decode("message_count"),
                summary: try row.decode("summary"), method: try row.decode("method"), createdAt: try row.decode("created_at"))
        }
    }

    /// What the reply stage reads instead of the whole history: the context's summary and the latest `recent` messages
    /// with text, oldest first.
    public static func history(conversation: UUID, tenant: UUID, recent: Int, conn: PostgresConnection) throws -> ConversationHistory {
        let summary = try conn.query("SELECT summary FROM conversation_context WHERE conversation_id = $1", [.uuid(conversation)]).first?
            .decodeIfPresent("summary", as: String.self)
        let rows = try conn.query(
            """
            SELECT seq, direction, text FROM messages
            WHERE tenant_id = $1 AND conversation_id = $2 AND text IS NOT NULL ORDER BY seq DESC LIMIT $3
            """, [.uuid(tenant), .uuid(conversation), .int(Int64(recent))])
        let messages = try rows.reversed().map { row in
            SummaryMessage(
                seq: try row.decode("seq"), inbound: try row.decode("direction", as: String.self) == "inbound", text: try row.decode("text"))
        }
        return ConversationHistory(summary: summary, recent: messages)
    }
}

/// A conversation's past as a reply reads it: the summary of its older part and its latest messages.
public struct ConversationHistory: Sendable {
    public var summary: String?
    public var recent: [SummaryMessage]

    public init(summary: String?, recent: [SummaryMessage]) { (self.summary, self.recent) = (summary, recent) }
}
