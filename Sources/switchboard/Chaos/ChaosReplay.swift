import Foundation
import SwitchboardPostgres
import SwitchboardQueue
import SwitchboardRedis
import SwitchboardStore

/// The replay: each conversation's burst posted as signed webhooks, conversations started at a fixed rate. A webhook
/// the intake does not accept (Redis or the receiver down) is delivered again every 0.5 s with the same message id,
/// as providers retry, for up to 2 minutes.
enum ChaosReplay {
    struct Posted: Codable, Sendable {
        var conversations: Int
        var messages: Int
        /// Deliveries repeated after the intake refused or failed them.
        var retries: Int
    }

    static func plans(conversations: Int, seed: UInt64) -> [BurstPlan] { BurstPlan.plans(count: conversations, seed: seed) }

    static func post(_ plans: [BurstPlan], rate: Double, poster: WhatsAppPoster) async throws -> Posted {
        let start = ContinuousClock.now
        return try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for (n, plan) in plans.enumerated() {
                group.addTask {
                    try await Task.sleep(until: start + .milliseconds(Int64(Double(n) * 1000 / rate)), clock: .continuous)
                    var retries = 0
                    for (i, text) in plan.texts.enumerated() {
                        retries += try await deliver(text, from: plan.phone, name: "Chaos \(n)", id: "wamid.chaos.\(n).\(i).\(UUID())", poster)
                        if i < plan.texts.count - 1 { try await Task.sleep(for: .milliseconds(Int64(plan.gaps[i] * 1000))) }
                    }
                    return (plan.texts.count, retries)
                }
            }
            var posted = Posted(conversations: plans.count, messages: 0, retries: 0)
            for try await (messages, retries) in group {
                posted.messages += messages
                posted.retries += retries
            }
            return posted
        }
    }

    /// Posts until `web` answers 200; returns how many deliveries were repeated.
    static func deliver(_ text: String, from: String, name: String, id: String, _ poster: WhatsAppPoster) async throws -> Int {
        for attempt in 0..<240 {
            do {
                try await poster.post(text, from: from, name: name, id: id)
                return attempt
            } catch {
                try await Task.sleep(for: .milliseconds(500))
            }
        }
        throw ChaosError("a webhook was not accepted within 2 minutes of retries")
    }
}

/// Waits for the pipeline to finish what the replay started. Each wait gives up at its timeout and says so in the
/// report rather than failing the run early.
struct ChaosSettle {
    let db: PostgresClient
    let tenant: UUID
    let redisURL: String

    /// Every turn decided, at least one per conversation, no inbound message outside a turn.
    func waitForDecisions(turnsAtLeast: Int, timeout: Duration) async throws {
        try await until(timeout) {
            let row = try await db.withTenant(tenant) { conn in
                try conn.query(
                    """
                    SELECT (SELECT count(*)::int FROM conversation_turns) AS turns,
                           (SELECT count(decision)::int FROM conversation_turns) AS decided,
                           (SELECT count(*)::int FROM messages WHERE direction = 'inbound' AND turn_id IS NULL) AS outside
                    """)[0]
            }
            let (turns, decided, outside): (Int, Int, Int) = (try row.decode("turns"), try row.decode("decided"), try row.decode("outside"))
            return turns >= turnsAtLeast && decided == turns && outside == 0
        }
    }

    /// The fake provider has received every reply the decisions stored.
    func waitForSends(sink: MessagingSink, timeout: Duration) async throws {
        try await until(timeout) {
            let expected = try await db.withTenant(tenant) { conn in
                try conn.query("SELECT count(reply_message_id)::int AS n FROM conversation_turns")[0].decode("n", as: Int.self)
            }
            return Set(sink.all.compactMap(\.reference)).count >= expected
        }
    }

    /// Every conversation closed by expiry.
    func waitForExpiry(timeout: Duration) async throws {
        try await until(timeout) {
            try await db.withTenant(tenant) { conn in
                try conn.query("SELECT count(*)::int AS n FROM conversations WHERE status <> 'closed'")[0].decode("n", as: Int.self) == 0
            }
        }
    }

    /// Nothing waiting, scheduled, retrying or running on the pipeline's queues.
    func waitForQueuesToDrain(timeout: Duration) async throws {
        let redis = RedisClient(configuration: try RedisConfiguration(url: redisURL), maxConnections: 1)
        defer { Task { try? await redis.shutdown() } }
        let inspector = QueueInspector(redis: redis)
        try await until(timeout) {
            var busy = 0
            for queue in ChaosReport.pipelineQueues {
                let c = try await inspector.counts(queue: queue)
                busy += (c["ready"] ?? 0) + (c["scheduled"] ?? 0) + (c["retry"] ?? 0) + (c["active"] ?? 0)
            }
            return busy == 0
        }
    }

    private func until(_ timeout: Duration, _ done: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? await done()) == true { return }
            try await Task.sleep(for: .milliseconds(500))
        }
    }
}
