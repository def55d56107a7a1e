import Foundation
import SwitchboardPostgres
import SwitchboardQueue
import SwitchboardRedis
import SwitchboardStore

/// What a chaos run found, from the database, the fake provider's log and the queues, with every guarantee checked.
struct ChaosReport: Encodable, Sendable {
    struct Tick: Codable, Sendable {
        var at: String
        var expired: Int
    }

    struct DeadJob: Codable, Sendable {
        var queue: String
        var name: String
        var reason: String
    }

    var conversations = 0
    var messagesPosted = 0
    var deliveriesRepeated = 0
    var messagesStored = 0
    var messagesStoredTwice = 0
    var messagesOutsideTurns = 0
    var turns = 0
    var turnsPerBurstMin = 0
    var turnsPerBurstMax = 0
    var turnsDecided = 0
    var decisions: [String: Int] = [:]
    /// Turns whose answer was to go out (replies and handoff notices, not those a newer message superseded), and what
    /// the fake provider received.
    var repliesStored = 0
    var repliesReceived = 0
    /// Sends cut short by a kill and sent again after waiting for a status that never came.
    var repliesSentAgain = 0
    /// Delivery statuses the fake provider posted back to `web`.
    var statusesPosted = 0
    var repliesReceivedTwice = 0
    var repliesPerTurnMax = 0
    var conversationsClosed = 0
    var contextsExpired = 0
    /// Contexts expired per expiry run (grouped by the run's transaction second).
    var expiryRuns: [Tick] = []
    var jobsPending = 0
    var jobsDead: [DeadJob] = []
    var faults = ChaosInjector.Counts()
    var problems: [String] = []
    var ok: Bool { problems.isEmpty }

    static let pipelineQueues = ["ingest", "pipeline", "outbound"]

    enum CodingKeys: String, CodingKey {
        case conversations, messagesPosted, deliveriesRepeated, messagesStored, messagesStoredTwice, messagesOutsideTurns, turns
        case turnsPerBurstMin, turnsPerBurstMax, turnsDecided, decisions, repliesStored, repliesReceived, repliesReceivedTwice
        case repliesSentAgain, statusesPosted
        case repliesPerTurnMax, conversationsClosed, contextsExpired, expiryRuns, jobsPending, jobsDead, faults, problems, ok
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(conversations, forKey: .conversations)
        try c.encode(messagesPosted, forKey: .messagesPosted)
        try c.encode(deliveriesRepeated, forKey: .deliveriesRepeated)
        try c.encode(messagesStored, forKey: .messagesStored)
        try c.encode(messagesStoredTwice, forKey: .messagesStoredTwice)
        try c.encode(messagesOutsideTurns, forKey: .messagesOutsideTurns)
        try c.encode(turns, forKey: .turns)
        try c.encode(turnsPerBurstMin, forKey: .turnsPerBurstMin)
        try c.encode(turnsPerBurstMax, forKey: .turnsPerBurstMax)
        try c.encode(turnsDecided, forKey: .turnsDecided)
        try c.encode(decisions, forKey: .decisions)
        try c.encode(repliesStored, forKey: .repliesStored)
        try c.encode(repliesReceived, forKey: .repliesReceived)
        try c.encode(repliesSentAgain, forKey: .repliesSentAgain)
        try c.encode(statusesPosted, forKey: .statusesPosted)
        try c.encode(repliesReceivedTwice, forKey: .repliesReceivedTwice)
        try c.encode(repliesPerTurnMax, forKey: .repliesPerTurnMax)
        try c.encode(conversationsClosed, forKey: .conversationsClosed)
        try c.encode(contextsExpired, forKey: .contextsExpired)
        try c.encode(expiryRuns, forKey: .expiryRuns)
        try c.encode(jobsPending, forKey: .jobsPending)
        try c.encode(jobsDead, forKey: .jobsDead)
        try c.encode(faults, forKey: .faults)
        try c.encode(problems, forKey: .problems)
        try c.encode(ok, forKey: .ok)
    }

    static func measure(
        db: PostgresClient, tenant: UUID, redisURL: String, posted: ChaosReplay.Posted, sends: [MessagingSink.Send],
        faults: ChaosInjector.Counts, conversations: Int, statusesPosted: Int
    ) async throws -> ChaosReport {
        var r = ChaosReport()
        r.conversations = conversations
        r.messagesPosted = posted.messages
        r.deliveriesRepeated = posted.retries
        r.faults = faults
        r.statusesPosted = statusesPosted
        let references = sends.compactMap(\.reference)
        let received = Dictionary(grouping: references, by: { $0 }).mapValues(\.count)
        r.repliesReceived = received.count
        r.repliesReceivedTwice = received.values.filter { $0 > 1 }.count
        r = try await db.withTenant(tenant) { [r] conn in
            var r = r
            let row = try conn.query(
                """
                SELECT (SELECT count(*)::int FROM messages WHERE direction = 'inbound') AS stored,
                       (SELECT count(DISTINCT provider_message_id)::int FROM messages WHERE direction = 'inbound') AS distinct_ids,
                       (SELECT count(*)::int FROM messages WHERE direction = 'inbound' AND turn_id IS NULL) AS outside,
                       (SELECT count(*)::int FROM conversation_turns) AS turns,
                       (SELECT count(decision)::int FROM conversation_turns) AS decided,
                       (SELECT count(*)::int FROM conversation_turns t JOIN messages m ON m.id = t.reply_message_id
                        WHERE m.send_state <> 'superseded') AS replies,
                       (SELECT coalesce(min(n), 0)::int FROM (SELECT count(*) AS n FROM conversation_turns GROUP BY conversation_id) t) AS min_turns,
                       (SELECT coalesce(max(n), 0)::int FROM (SELECT count(*) AS n FROM conversation_turns GROUP BY conversation_id) t) AS max_turns,
                       (SELECT count(*)::int FROM conversations WHERE status = 'closed') AS closed,
                       (SELECT count(*)::int FROM conversation_context WHERE expired_at IS NOT NULL) AS expired,
                       (SELECT coalesce(sum(resends), 0)::int FROM messages WHERE direction = 'outbound') AS sent_again
                """)[0]
            r.messagesStored = try row.decode("stored")
            r.messagesStoredTwice = r.messagesStored - (try row.decode("distinct_ids", as: Int.self))
            r.messagesOutsideTurns = try row.decode("outside")
            r.turns = try row.decode("turns")
            r.turnsDecided = try row.decode("decided")
            r.repliesStored = try row.decode("replies")
            r.turnsPerBurstMin = try row.decode("min_turns")
            r.turnsPerBurstMax = try row.decode("max_turns")
            r.conversationsClosed = try row.decode("closed")
            r.contextsExpired = try row.decode("expired")
            r.repliesSentAgain = try row.decode("sent_again")
            for d in try conn.query(
                "SELECT coalesce(decision || ' ' || reason, 'undecided') AS d, count(*)::int AS n FROM conversation_turns GROUP BY 1")
            {
                r.decisions[try d.decode("d")] = try d.decode("n")
            }
            for t in try conn.query(
                """
                SELECT to_char(date_trunc('second', expired_at), 'HH24:MI:SS') AS at, count(*)::int AS n FROM conversation_context
                WHERE expired_at IS NOT NULL GROUP BY 1 ORDER BY 1
                """)
            {
                r.expiryRuns.append(Tick(at: try t.decode("at"), expired: try t.decode("n")))
            }
            // Replies the provider received per turn: the send references of each turn's outbound messages.
            var perTurn: [String: Int] = [:]
            for m in try conn.query(
                "SELECT t.id::text AS turn, m.send_reference FROM conversation_turns t JOIN messages m ON m.id = t.reply_message_id")
            {
                if let reference = try m.decodeIfPresent("send_reference", as: String.self) {
                    perTurn[try m.decode("turn"), default: 0] += received[reference] ?? 0
                }
            }
            r.repliesPerTurnMax = perTurn.values.max() ?? 0
            return r
        }
        let redis = RedisClient(configuration: try RedisConfiguration(url: redisURL), maxConnections: 1)
        let inspector = QueueInspector(redis: redis)
        for queue in pipelineQueues + ["maintenance"] {
            let c = try await inspector.counts(queue: queue)
            if pipelineQueues.contains(queue) {
                r.jobsPending += (c["ready"] ?? 0) + (c["scheduled"] ?? 0) + (c["retry"] ?? 0) + (c["active"] ?? 0)
            }
        }
        for job in try await inspector.list(queues: pipelineQueues + ["maintenance"], states: ["dead"], limit: 200) {
            let errors = (try? JSONSerialization.jsonObject(with: Data((job.errorsJSON ?? "[]").utf8))) as? [Any] ?? []
            let last = errors.last.map { "\($0)" } ?? "no error recorded"
            r.jobsDead.append(DeadJob(queue: job.queue, name: job.name, reason: String(last.prefix(300))))
        }
        try await redis.shutdown()
        r.check()
        return r
    }

    /// The guarantees, each a problem when broken.
    mutating func check() {
        if messagesStored != messagesPosted { problems.append("\(messagesStored) messages stored of \(messagesPosted) posted") }
        if messagesStoredTwice > 0 { problems.append("\(messagesStoredTwice) messages stored twice") }
        if messagesOutsideTurns > 0 { problems.append("\(messagesOutsideTurns) messages in no turn") }
        if turnsPerBurstMin != 1 || turnsPerBurstMax != 1 || turns != conversations {
            problems.append("turns per burst \(turnsPerBurstMin)–\(turnsPerBurstMax) (\(turns) turns for \(conversations) bursts)")
        }
        if turnsDecided != turns { problems.append("\(turns - turnsDecided) turns undecided") }
        if repliesReceivedTwice > 0 || repliesPerTurnMax > 1 { problems.append("\(repliesReceivedTwice) replies received twice") }
        if repliesReceived < repliesStored { problems.append("\(repliesStored - repliesReceived) replies never reached the provider") }
        if conversationsClosed != conversations { problems.append("\(conversations - conversationsClosed) conversations did not expire") }
        if jobsPending > 0 { problems.append("\(jobsPending) jobs still queued on the pipeline's queues") }
        if !jobsDead.isEmpty { problems.append("\(jobsDead.count) dead jobs") }
        problems += faults.notes
    }

    var rendered: String {
        let rows: [[String]] = [
            ["conversations / messages posted (deliveries repeated)", "\(conversations) / \(messagesPosted) (\(deliveriesRepeated))"],
            ["messages stored / stored twice / in no turn", "\(messagesStored) / \(messagesStoredTwice) / \(messagesOutsideTurns)"],
            ["turns (per burst min–max) / decided", "\(turns) (\(turnsPerBurstMin)–\(turnsPerBurstMax)) / \(turnsDecided)"],
            ["replies stored / received / received twice", "\(repliesStored) / \(repliesReceived) / \(repliesReceivedTwice)"],
            ["replies sent again after a kill / statuses posted back", "\(repliesSentAgain) / \(statusesPosted)"],
            ["conversations closed / contexts expired", "\(conversationsClosed) / \(contextsExpired)"],
            ["expiry runs (contexts each)", expiryRuns.map { "\($0.at): \($0.expired)" }.joined(separator: ", ")],
            ["jobs still queued / dead", "\(jobsPending) / \(jobsDead.count)"],
            [
                "faults: worker kills / Redis / PostgreSQL restarts / scheduler kills",
                "\(faults.workerKills) / \(faults.redisRestarts) / \(faults.postgresRestarts) / \(faults.schedulerKills)",
            ],
        ]
        var out = Table(headers: ["CHECK", "VALUE"], rows: rows).render()
        out += "\ndecisions: " + decisions.sorted { $0.value > $1.value }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
        for job in jobsDead { out += "\ndead: \(job.queue) \(job.name): \(job.reason)" }
        out += ok ? "\nall checks passed" : "\nFAILED:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
        return out
    }
}
