public import Foundation
public import SwitchboardPostgres
import SwitchboardStore

/// Closes conversations whose context is due (``ConversationContext/expiresAt`` passed), a batch per transaction, so a
/// backlog of any size never holds one long transaction. Per due row:
/// - the conversation had activity after the context was written (a turn still on its way): the expiry moves to that
///   activity plus the idle time;
/// - a person has the conversation (handoff) or it is closed already: the context stops expiring;
/// - otherwise it expires: the key facts merge into the customer's, the topic and pending action are kept on the
///   customer for the next conversation, the conversation closes and the working context is cleared.
///
/// Rows are claimed with `FOR UPDATE SKIP LOCKED`: two runs at once (a slow tick overlapping the next) share the work.
public struct ContextExpiry: Sendable {
    public let db: PostgresClient
    public var batchSize: Int

    public init(db: PostgresClient, batchSize: Int = 1000) {
        self.db = db
        self.batchSize = batchSize
    }

    /// What a run did.
    public struct Report: Sendable, Codable, Equatable {
        public var batches = 0
        public var expired = 0
        public var postponed = 0
        public var withPerson = 0
        /// The longest batch's transaction, in milliseconds.
        public var longestBatchMs = 0.0
        public var totalMs = 0.0
        /// Stopped at the time limit with due rows left (the next run goes on).
        public var incomplete = false

        public init() {}
    }

    /// Expires every due context, batch after batch, until none is due or `limit` has passed.
    public func run(limit: Duration = .seconds(50)) async throws -> Report {
        var report = Report()
        let clock = ContinuousClock()
        let started = clock.now
        while true {
            let batchStarted = clock.now
            let batch = try await expireBatch()
            let ms = Self.milliseconds(clock.now - batchStarted)
            report.batches += 1
            report.expired += batch.expired
            report.postponed += batch.postponed
            report.withPerson += batch.withPerson
            report.longestBatchMs = max(report.longestBatchMs, ms)
            if batch.due < batchSize { break }
            if clock.now - started > limit {
                report.incomplete = true
                break
            }
        }
        report.totalMs = Self.milliseconds(clock.now - started)
        return report
    }

    struct Batch: Sendable {
        var due: Int
        var expired: Int
        var postponed: Int
        var withPerson: Int
    }

    /// One batch, in one transaction.
    func expireBatch() async throws -> Batch {
        let size = Int64(batchSize)
        return try await db.withSystemAccess { conn in
            let row = try conn.query(
                """
                WITH due AS (
                    SELECT x.conversation_id, x.current_topic, x.pending_action, x.key_facts, x.last_activity_at, x.idle_seconds,
                           v.customer_id, v.status, v.last_activity_at AS activity
                    FROM conversation_context x JOIN conversations v ON v.id = x.conversation_id
                    WHERE x.expires_at <= now()
                    ORDER BY x.expires_at
                    LIMIT $1
                    FOR UPDATE OF x, v SKIP LOCKED
                ), expiring AS (
                    SELECT * FROM due WHERE status = 'open' AND activity <= last_activity_at
                ), postponed AS (
                    UPDATE conversation_context x
                    SET last_activity_at = d.activity, expires_at = d.activity + make_interval(secs => d.idle_seconds), updated_at = now()
                    FROM due d WHERE x.conversation_id = d.conversation_id AND d.status = 'open' AND d.activity > d.last_activity_at
                    RETURNING 1
                ), held AS (
                    UPDATE conversation_context x SET expires_at = NULL, updated_at = now()
                    FROM due d WHERE x.conversation_id = d.conversation_id AND d.status <> 'open'
                    RETURNING 1
                ), kept AS (
                    UPDATE customers c
                    SET key_facts = c.key_facts || e.key_facts, previous_topic = e.current_topic, previous_pending_action = e.pending_action,
                        previous_conversation_id = e.conversation_id, memory_kept_at = now(), updated_at = now()
                    FROM expiring e WHERE c.id = e.customer_id
                    RETURNING 1
                ), closed AS (
                    UPDATE conversations v SET status = 'closed', closed_at = now()
                    FROM expiring e WHERE v.id = e.conversation_id
                    RETURNING 1
                ), cleared AS (
                    UPDATE conversation_context x
                    SET current_topic = NULL, pending_action = NULL, extracted_entities = '{}', last_product_viewed = NULL, summary = NULL,
                        expires_at = NULL, expired_at = now(), updated_at = now()
                    FROM expiring e WHERE x.conversation_id = e.conversation_id
                    RETURNING 1
                )
                SELECT (SELECT count(*) FROM due) AS due, (SELECT count(*) FROM cleared) AS expired,
                       (SELECT count(*) FROM postponed) AS postponed, (SELECT count(*) FROM held) AS held,
                       (SELECT count(*) FROM closed) AS closed, (SELECT count(*) FROM kept) AS kept
                """, [.int(size)])[0]
            return Batch(
                due: try row.decode("due"), expired: try row.decode("expired"), postponed: try row.decode("postponed"),
                withPerson: try row.decode("held"))
        }
    }

    static func milliseconds(_ d: Duration) -> Double {
        let (s, a) = d.components
        return ((Double(s) * 1000 + Double(a) / 1e15) * 10).rounded() / 10
    }
}
