import Crypto
public import FoundationEssentials
public import SwitchboardPostgres
public import SwitchboardUnderstanding
import SwitchboardStore
import SwitchboardOrders
import SwitchboardKnowledge
import SwitchboardEmbedding

/// The turns of conversations in PostgreSQL. Every function runs in the caller's transaction, under the tenant's scope.
public enum TurnStore {
    /// What coalescing a burst did.
    public enum Coalesced: Sendable {
        /// A new turn of these messages.
        case created(ConversationTurn)
        /// The burst's turn exists already (a re-run of the same burst).
        case existing(ConversationTurn)
        /// Every message of the burst belongs to another turn already (a duplicate enqueue): nothing to do.
        case nothingNew
    }

    /// Makes the turn of a burst: the burst's inbound messages that belong to no turn yet, and any other message of the
    /// conversation stored and in no turn (one whose own coalesce is still to come), in the order they were sent.
    /// The turn's id derives from the burst's messages, so a re-run finds the turn it made; a message already in
    /// another turn is left there (a message belongs to exactly one turn).
    public static func coalesce(
        tenant: UUID, conversation: UUID, burst: [UUID], closedAt: Date, conn: PostgresConnection
    ) throws -> Coalesced {
        let key = burstKey(burst)
        if let existing = try load(burstKey: key, conn: conn) { return .existing(existing) }
        let rows = try conn.query(
            """
            SELECT id, text, coalesce(sent_at, created_at) AS at FROM messages
            WHERE tenant_id = $3 AND conversation_id = $2 AND direction = 'inbound' AND turn_id IS NULL
              AND (id = ANY($1::uuid[]) OR type <> ALL('{reaction,system,unsupported}'::text[]))
            ORDER BY coalesce(sent_at, created_at), created_at, id
            FOR UPDATE
            """, [.textArray(burst.map(\.uuidString)), .uuid(conversation), .uuid(tenant)])
        guard !rows.isEmpty else { return .nothingNew }
        let ids = try rows.map { try $0.decode("id", as: UUID.self) }
        let texts = try rows.compactMap { try $0.decodeIfPresent("text", as: String.self) }.filter { !$0.isEmpty }
        let times = try rows.map { try $0.decode("at", as: Date.self) }
        let id = turnID(tenant: tenant, burstKey: key)
        try conn.execute(
            """
            INSERT INTO conversation_turns (id, tenant_id, conversation_id, burst_key, message_ids, text, first_message_at, last_message_at,
                                            window_closed_at)
            VALUES ($1, $2, $3, $4, $5::uuid[], $6, $7, $8, $9)
            """,
            [
                .uuid(id), .uuid(tenant), .uuid(conversation), .text(key), .textArray(ids.map(\.uuidString)), .text(texts.joined(separator: "\n")),
                .timestamp(times.min()!), .timestamp(times.max()!), .timestamp(closedAt),
            ])
        try conn.execute("UPDATE messages SET turn_id = $1 WHERE id = ANY($2::uuid[])", [.uuid(id), .textArray(ids.map(\.uuidString))])
        guard let turn = try load(id: id, conn: conn) else { throw PostgresError(.decoding, "the new turn \(id) did not read back") }
        return .created(turn)
    }

    /// The SHA-256 (hex) of the burst's sorted message ids.
    public static func burstKey(_ burst: [UUID]) -> String {
        let joined = Set(burst.map { $0.uuidString.lowercased() }).sorted().joined(separator: ",")
        return hex(SHA256.hash(data: Array(joined.utf8)))
    }

    /// The turn id of a burst: a UUID (version 8, name-based) from the tenant and the burst key.
    static func turnID(tenant: UUID, burstKey: String) -> UUID {
        var bytes = Array(SHA256.hash(data: Array("\(tenant.uuidString.lowercased()):\(burstKey)".utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x80
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9], bytes[10], bytes[11],
                bytes[12], bytes[13], bytes[14], bytes[15]
            ))
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef")
        return String(digest.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
    }

    static let columns = """
        id, conversation_id, message_ids::text[] AS message_ids, text, first_message_at, last_message_at, window_closed_at,
        understanding::text AS understanding, retrieval::text AS retrieval, order_id, order_outcome, order_snapshot::text AS order_snapshot,
        decision, reason, draft,
        reply_message_id, answered_by, decided_at, stages::text AS stages
        """

    public static func load(id: UUID, conn: PostgresConnection) throws -> ConversationTurn? {
        try conn.query("SELECT \(columns) FROM conversation_turns WHERE id = $1", [.uuid(id)]).first.map(decode)
    }

    static func load(burstKey: String, conn: PostgresConnection) throws -> ConversationTurn? {
        try conn.query("SELECT \(columns) FROM conversation_turns WHERE burst_key = $1", [.text(burstKey)]).first.map(decode)
    }

    /// A conversation's turns, oldest first.
    public static func turns(conversation: UUID, conn: PostgresConnection) throws -> [ConversationTurn] {
        try conn.query(
            "SELECT \(columns) FROM conversation_turns WHERE conversation_id = $1 ORDER BY first_message_at, created_at, id", [.uuid(conversation)]
        ).map(decode)
    }

    static func decode(_ row: PostgresRow) throws -> ConversationTurn {
        func json<T: Decodable>(_ column: String, _ type: T.Type) throws -> T? {
            guard let text = try row.decodeIfPresent(column, as: String.self) else { return nil }
            return try TurnJSON.decoder.decode(T.self, from: Data(text.utf8))
        }
        return ConversationTurn(
            id: try row.decode("id"), conversationID: try row.decode("conversation_id"),
            messageIDs: try row.decode("message_ids", as: [String].self).compactMap(UUID.init(uuidString:)), text: try row.decode("text"),
            firstMessageAt: try row.decode("first_message_at"), lastMessageAt: try row.decode("last_message_at"),
            windowClosedAt: try row.decode("window_closed_at"), understanding: try json("understanding", TurnUnderstanding.self),
            retrieval: try json("retrieval", [TurnPassage].self), orderID: try row.decodeIfPresent("order_id"),
            orderOutcome: try row.decodeIfPresent("order_outcome"), orderSnapshot: try json("order_snapshot", StoredOrder.self),
            decision: try row.decodeIfPresent("decision", as: String.self).flatMap(TurnDecision.Kind.init(rawValue:)),
            reason: try row.decodeIfPresent("reason"), draft: try row.decodeIfPresent("draft"),
            replyMessageID: try row.decodeIfPresent("reply_message_id"),
            answeredBy: try row.decodeIfPresent("answered_by"), decidedAt: try row.decodeIfPresent("decided_at"),
            stages: try json("stages", [String: StageRun].self) ?? [:])
    }

    /// Records a stage's run on the turn (the last run of a stage replaces an earlier one).
    public static func recordStage(_ stage: String, _ run: StageRun, turn: UUID, conn: PostgresConnection) throws {
        let value = String(decoding: try TurnJSON.encoder.encode(run), as: UTF8.self)
        try conn.execute(
            "UPDATE conversation_turns SET stages = stages || jsonb_build_object($2::text, $3::jsonb) WHERE id = $1",
            [.uuid(turn), .text(stage), .text(value)])
    }

    public static func saveUnderstanding(_ understanding: TurnUnderstanding, turn: UUID, conn: PostgresConnection) throws {
        let value = String(decoding: try TurnJSON.encoder.encode(understanding), as: UTF8.self)
        try conn.execute("UPDATE conversation_turns SET understanding = $2::jsonb WHERE id = $1", [.uuid(turn), .text(value)])
    }

    /// The sentence vectors of the turn's retrieval queries (``DecisionRules/retrievalQueries(_:text:)``), in order.
    public static func saveQueryVectors(_ vectors: [[Float]], turn: UUID, conn: PostgresConnection) throws {
        try conn.execute(
            "UPDATE conversation_turns SET query_vectors = $2 WHERE id = $1", [.uuid(turn), .bytea(vectors.flatMap(EmbeddingCodec.encode))])
    }

    /// The vectors ``saveQueryVectors(_:turn:conn:)`` stored; empty when none.
    public static func queryVectors(turn: UUID, conn: PostgresConnection) throws -> [[Float]] {
        guard
            let bytes = try conn.query("SELECT query_vectors FROM conversation_turns WHERE id = $1", [.uuid(turn)]).first?
                .decodeIfPresent("query_vectors", as: PostgresBytes.self)?.bytes,
            let floats = EmbeddingCodec.decode(bytes), floats.count % SentenceEncoder.dimension == 0
        else { return [] }
        return stride(from: 0, to: floats.count, by: SentenceEncoder.dimension).map { Array(floats[$0..<$0 + SentenceEncoder.dimension]) }
    }

    public static func saveRetrieval(_ passages: [TurnPassage], turn: UUID, conn: PostgresConnection) throws {
        let value = String(decoding: try TurnJSON.encoder.encode(passages), as: UTF8.self)
        try conn.execute("UPDATE conversation_turns SET retrieval = $2::jsonb WHERE id = $1", [.uuid(turn), .text(value)])
    }

    /// Records what order extraction did for the turn and, the first time, the order as the turn left it.
    public static func saveOrder(_ order: UUID?, outcome: String, turn: UUID, conn: PostgresConnection) throws {
        let snapshot = try order.flatMap { try OrderStore.load(id: $0, conn: conn) }.map {
            String(decoding: try TurnJSON.encoder.encode($0), as: UTF8.self)
        }
        try conn.execute(
            """
            UPDATE conversation_turns SET order_id = coalesce($2, order_id), order_outcome = $3,
                order_snapshot = coalesce(order_snapshot, $4::jsonb)
            WHERE id = $1
            """, [.uuid(turn), order.map(PostgresValue.uuid) ?? .null, .text(outcome), snapshot.map(PostgresValue.text) ?? .null])
    }

    /// Whether the customer wrote again after the turn's last message (an inbound message of the conversation, not in
    /// the turn, stored after the turn's latest one): the turn's answer would then be out of date.
    public static func hasNewerInbound(than turn: ConversationTurn, tenant: UUID, conn: PostgresConnection) throws -> Bool {
        // The tenant in the predicate: the row-level policy's OR cannot narrow an index scan, this can.
        try conn.query(
            """
            SELECT EXISTS (
                SELECT 1 FROM messages m
                WHERE m.tenant_id = $3 AND m.conversation_id = $1 AND m.direction = 'inbound' AND NOT (m.id = ANY($2::uuid[]))
                  AND m.created_at > (SELECT max(created_at) FROM messages WHERE id = ANY($2::uuid[]))
            ) AS newer
            """, [.uuid(turn.conversationID), .textArray(turn.messageIDs.map(\.uuidString)), .uuid(tenant)]
        ).first?.decode("newer", as: Bool.self) ?? false
    }

    /// The conversation's turns before `turn` that were superseded and are not answered yet (the next answer covers
    /// them), oldest first.
    public static func unanswered(before turn: ConversationTurn, tenant: UUID, conn: PostgresConnection) throws -> [ConversationTurn] {
        try conn.query(
            """
            SELECT \(columns) FROM conversation_turns
            WHERE tenant_id = $1 AND conversation_id = $2 AND decision = 'superseded' AND answered_by IS NULL AND id <> $3
              AND first_message_at <= $4
            ORDER BY first_message_at, created_at, id
            """, [.uuid(tenant), .uuid(turn.conversationID), .uuid(turn.id), .timestamp(turn.firstMessageAt)]
        ).map(decode)
    }

    /// The customer's most recent question in the conversation before `turn` that got no answer: a turn with a question
    /// (an intent for the help center or an order) that was never decided, was superseded with nothing answering it,
    /// was replied to by a message that failed or was dropped, or went to a person (draft or handoff) who has not
    /// written to the customer since. Looks at the latest 20 turns.
    public static func lastUnansweredQuestion(before turn: ConversationTurn, tenant: UUID, conn: PostgresConnection) throws -> ConversationTurn? {
        let candidates = try conn.query(
            """
            SELECT \(columns) FROM conversation_turns
            WHERE tenant_id = $1 AND conversation_id = $2 AND id <> $3 AND first_message_at <= $4 AND answered_by IS NULL
            ORDER BY first_message_at DESC, created_at DESC LIMIT 20
            """, [.uuid(tenant), .uuid(turn.conversationID), .uuid(turn.id), .timestamp(turn.firstMessageAt)]
        ).map(decode)
        for t in candidates {
            guard let u = t.understanding, !u.intents.contains(where: { $0.name == LexiconIntents.forgotRequest }),
                u.intents.contains(where: { DecisionRules.needsRetrieval(intentOnly: $0) || DecisionRules.orderIntents.contains($0.name) })
            else { continue }
            if try !answered(t, tenant: tenant, conn: conn) { return t }
        }
        return nil
    }

    static func answered(_ t: ConversationTurn, tenant: UUID, conn: PostgresConnection) throws -> Bool {
        switch t.decision {
        case nil, .superseded?: return false
        case .reply?:
            guard let reply = t.replyMessageID else { return false }
            let state = try conn.query("SELECT send_state FROM messages WHERE id = $1", [.uuid(reply)]).first?
                .decodeIfPresent("send_state", as: String.self)
            return state != "failed" && state != "superseded"
        case .draft?, .handoff?:
            if t.decision == .draft, t.replyMessageID != nil { return true }
            // A person's own message to the customer after the turn (one that is no turn's automatic reply or notice).
            return try conn.query(
                """
                SELECT EXISTS (
                    SELECT 1 FROM messages m
                    WHERE m.tenant_id = $1 AND m.conversation_id = $2 AND m.direction = 'outbound' AND m.created_at > $3
                      AND m.send_state IN ('queued', 'sending', 'uncertain', 'sent')
                      AND NOT EXISTS (SELECT 1 FROM conversation_turns x WHERE x.reply_message_id = m.id AND x.decision IN ('reply', 'handoff'))
                ) AS answered
                """, [.uuid(tenant), .uuid(t.conversationID), .timestamp(t.lastMessageAt)]
            ).first?.decode("answered", as: Bool.self) ?? false
        }
    }
}

/// How turns' JSON columns are written and read: dates as milliseconds since 1970, sorted keys (the same value, the same text).
public enum TurnJSON {
    public static var encoder: JSONEncoder {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .millisecondsSince1970
        e.outputFormatting = [.sortedKeys]
        return e
    }
    public static var decoder: JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .millisecondsSince1970
        return d
    }
}
