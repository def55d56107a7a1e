import SwitchboardProcess
import ArgumentParser
import Foundation
import Glibc
import Synchronization
import SwitchboardConversations
import SwitchboardEmbedding
import SwitchboardHTTP
import SwitchboardKnowledge
import SwitchboardPostgres
import SwitchboardStore

/// `switchboard bench pipeline`: customers' bursts through signed webhooks → `web` → workers → replies, with the
/// embedded models; counts turns per burst and replies per turn, and times window close → decision, overall and per
/// stage.
struct PipelineBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "Drive conversations through web and workers; report turns per burst, turns/s and window-close → decision latency.",
        discussion: """
            Creates a tenant of its own with the demo catalogue and help center, starts `switchboard web` and `switchboard
            worker` itself (their WhatsApp sends go to a local sink this command runs), and posts each conversation's
            burst of 3–5 messages with random gaps of 0.2–2 s, starting conversations at --rate per second. Run a
            release build, on a Redis and PostgreSQL nothing else is using: the workers take every job on the pipeline's
            queues. Checks: exactly one turn per burst, every message in one turn, one decision per turn, no reply
            sent twice (the sink's log).

            Example:
              switchboard bench pipeline --conversations 1000 --rate 20 --processes 2 --concurrency 16
            """)
    @Option(help: "Conversations, one burst each.") var conversations = 1000
    @Option(help: "Conversations started per second.") var rate = 20.0
    @Option(help: "Worker processes.") var processes = 2
    @Option(help: "Job slots per worker process.") var concurrency = 16
    @Option(help: "The catalogue and help center (catalog.csv and kb/).") var data = "scripts/demo-data"
    @Option(help: "Seed of the bursts' random sizes, gaps and texts.") var seed: UInt64 = 42
    @Flag(help: "Print one JSON object.") var json = false

    struct Stage: Codable {
        var stage: String
        var runs: Int
        var tookP50Ms, tookP95Ms, tookP99Ms: Double
        /// When the stage finished, counted from the window's close.
        var doneP50Ms, doneP95Ms, doneP99Ms: Double
    }

    struct Result: Codable {
        var conversations, messages, turns, decided, repliesSent, duplicateSends, messagesOutsideTurns: Int
        var turnsPerBurstMin, turnsPerBurstMax: Int
        var decisions: [String: Int]
        var turnsPerSecond: Double
        var latencyP50Ms, latencyP95Ms, latencyP99Ms, latencyMaxMs: Double
        var stages: [Stage]
    }

    func validate() throws {
        if conversations < 1 || rate <= 0 || processes < 1 || concurrency < 1 {
            throw ValidationError("--conversations, --rate, --processes and --concurrency must be above 0")
        }
    }

    func run() async throws {
        let settings = try Settings.fromEnvironment()
        let box = try settings.secretBox()
        let http = HTTPClient(poolSize: 16)
        let sink = MessagingSink()
        let result = try await withModelAndDatabase { _, db, embedder in
            let (tenant, phone, secret) = try await makeBenchTenant("bench pipeline", db: db, box: box, embedder: embedder, data: data)
            let measured = Mutex<Result?>(nil)
            try await sink.run { sinkPort in
                let webPort = try freeLoopbackPort()
                let env = ["LOG_LEVEL": "warning", "SWITCHBOARD_WHATSAPP_BASE_URL": "http://127.0.0.1:\(sinkPort)", "PORT": String(webPort)]
                let exe = try currentExecutablePath()
                let web = try ChildProcess(executable: exe, arguments: ["web"], environment: env)
                let worker = try ChildProcess(
                    executable: exe,
                    arguments: [
                        "worker", "--queues", "ingest,pipeline,outbound", "--processes", String(processes), "--concurrency", String(concurrency),
                    ], environment: env)
                defer {
                    for child in [web, worker] { child.signal(SIGTERM) }
                }
                try await waitForWeb(port: webPort, http: http)
                let poster = WhatsAppPoster(url: "http://127.0.0.1:\(webPort)", phoneNumberID: phone, appSecret: secret, http: http)
                let sent = try await drive(poster)
                let expectedReplies = try await waitForDecisions(db, tenant: tenant, turns: conversations)
                // The replies' sends: wait until the sink has every reply the decisions made (or a few seconds pass).
                let settleBy = ContinuousClock.now + .seconds(30)
                while sink.all.count < expectedReplies, ContinuousClock.now < settleBy { try await Task.sleep(for: .milliseconds(200)) }
                try await Task.sleep(for: .seconds(1))
                for child in [web, worker] {
                    child.signal(SIGTERM)
                    _ = await child.waitForExit()
                }
                let result = try await measure(db, tenant: tenant, messages: sent, sends: sink.all)
                measured.withLock { $0 = result }
            }
            guard let result = measured.withLock({ $0 }) else { throw ValidationError("the benchmark ended without figures") }
            return result
        }
        try await http.shutdown()
        if json { return print(try jsonText(result)) }
        print(render(result))
    }

    /// Posts every conversation's burst, starting conversations at `rate`; returns the messages posted.
    private func drive(_ poster: WhatsAppPoster) async throws -> Int {
        let plans = BurstPlan.plans(count: conversations, seed: seed)
        let start = ContinuousClock.now
        if !json { print("posting \(conversations) bursts at \(rate) conversations/s…") }
        return try await withThrowingTaskGroup(of: Int.self) { group in
            for (n, plan) in plans.enumerated() {
                group.addTask {
                    try await Task.sleep(until: start + .milliseconds(Int64(Double(n) * 1000 / rate)), clock: .continuous)
                    for (text, gap) in zip(plan.texts, plan.gaps) {
                        try await poster.post(text, from: plan.phone, name: "Bench \(n)")
                        if text != plan.texts.last { try await Task.sleep(for: .milliseconds(Int64(gap * 1000))) }
                    }
                    return plan.texts.count
                }
            }
            return try await group.reduce(0, +)
        }
    }

    /// Waits until `turns` turns are decided (the bursts' windows close 5 s after their last message); returns how many
    /// decisions send something (replies and handoff notices).
    private func waitForDecisions(_ db: PostgresClient, tenant: UUID, turns: Int) async throws -> Int {
        let deadline = ContinuousClock.now + .seconds(120)
        while true {
            let (decided, sending) = try await db.withTenant(tenant) { conn -> (Int, Int) in
                let r = try conn.query(
                    "SELECT count(decision)::int AS d, count(reply_message_id)::int AS s FROM conversation_turns")[0]
                return (try r.decode("d"), try r.decode("s"))
            }
            if decided >= turns { return sending }
            if ContinuousClock.now > deadline {
                throw ValidationError("only \(decided) of \(turns) turns were decided within 120 s of the last message")
            }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    private func measure(_ db: PostgresClient, tenant: UUID, messages: Int, sends: [MessagingSink.Send]) async throws -> Result {
        let (turns, counts) = try await db.withTenant(tenant) { conn -> ([ConversationTurn], (Int, Int, Int, Int)) in
            let ids: [UUID] = try conn.query("SELECT id FROM conversation_turns").map { try $0.decode("id") }
            let turns = try ids.compactMap { try TurnStore.load(id: $0, conn: conn) }
            let r = try conn.query(
                """
                SELECT (SELECT count(*)::int FROM messages WHERE direction = 'inbound') AS inbound,
                       (SELECT count(*)::int FROM messages WHERE direction = 'inbound' AND turn_id IS NULL) AS outside,
                       (SELECT min(n)::int FROM (SELECT count(*) AS n FROM conversation_turns GROUP BY conversation_id) t) AS min_turns,
                       (SELECT max(n)::int FROM (SELECT count(*) AS n FROM conversation_turns GROUP BY conversation_id) t) AS max_turns
                """)[0]
            return (turns, (try r.decode("inbound"), try r.decode("outside"), try r.decode("min_turns"), try r.decode("max_turns")))
        }
        let latencies = turns.compactMap { t in t.decidedAt.map { $0.timeIntervalSince(t.windowClosedAt) * 1000 } }.sorted()
        let first = turns.map(\.windowClosedAt).min() ?? Date()
        let last = turns.compactMap(\.decidedAt).max() ?? Date()
        var decisions: [String: Int] = [:]
        for t in turns { decisions["\(t.decision?.rawValue ?? "none") \(t.reason ?? "")", default: 0] += 1 }
        let references = Dictionary(grouping: sends.compactMap(\.reference), by: { $0 })
        var stages: [Stage] = []
        for name in ["coalesce", "understand", "retrieve", "extract", "decide"] {
            let runs = turns.compactMap { t in t.stages[name].map { (t, $0) } }
            guard !runs.isEmpty else { continue }
            let took = runs.map(\.1.ms).sorted()
            let done = runs.map { ($1.startedAt.timeIntervalSince($0.windowClosedAt) * 1000) + $1.ms }.sorted()
            stages.append(
                Stage(
                    stage: name, runs: runs.count, tookP50Ms: pct(took, 0.5), tookP95Ms: pct(took, 0.95), tookP99Ms: pct(took, 0.99),
                    doneP50Ms: pct(done, 0.5), doneP95Ms: pct(done, 0.95), doneP99Ms: pct(done, 0.99)))
        }
        return Result(
            conversations: conversations, messages: counts.0, turns: turns.count, decided: turns.filter { $0.decision != nil }.count,
            repliesSent: sends.count, duplicateSends: references.values.filter { $0.count > 1 }.count, messagesOutsideTurns: counts.1,
            turnsPerBurstMin: counts.2, turnsPerBurstMax: counts.3, decisions: decisions,
            turnsPerSecond: (Double(turns.count) / max(0.001, last.timeIntervalSince(first)) * 10).rounded() / 10,
            latencyP50Ms: pct(latencies, 0.5), latencyP95Ms: pct(latencies, 0.95), latencyP99Ms: pct(latencies, 0.99),
            latencyMaxMs: pct(latencies, 1), stages: stages)
    }

    private func pct(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        return (sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p + 0.5))] * 10).rounded() / 10
    }

    private func render(_ r: Result) -> String {
        var rows = [
            ["conversations / messages", "\(r.conversations) / \(r.messages)"],
            ["turns (per burst: min–max)", "\(r.turns) (\(r.turnsPerBurstMin)–\(r.turnsPerBurstMax))"],
            ["messages outside a turn", "\(r.messagesOutsideTurns)"],
            ["turns decided", "\(r.decided)"],
            ["replies sent / sent twice", "\(r.repliesSent) / \(r.duplicateSends)"],
            ["turns/s (first window close → last decision)", "\(r.turnsPerSecond)"],
            ["window close → decision p50 / p95 / p99 / max", "\(r.latencyP50Ms) / \(r.latencyP95Ms) / \(r.latencyP99Ms) / \(r.latencyMaxMs) ms"],
        ]
        for s in r.stages {
            rows.append(["  \(s.stage): took p50/p95/p99", "\(s.tookP50Ms) / \(s.tookP95Ms) / \(s.tookP99Ms) ms (\(s.runs) runs)"])
            rows.append(["  \(s.stage): done after close p50/p95/p99", "\(s.doneP50Ms) / \(s.doneP95Ms) / \(s.doneP99Ms) ms"])
        }
        let decisions = r.decisions.sorted { $0.value > $1.value }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
        return Table(headers: ["MEASURE", "VALUE"], rows: rows).render() + "\ndecisions: \(decisions)"
    }

    private func waitForWeb(port: Int, http: HTTPClient) async throws {
        for _ in 0..<200 {
            if let r = try? await http.execute(HTTPClient.Request(url: "http://127.0.0.1:\(port)/healthz", connectTimeout: .seconds(1))),
                r.status == 200
            {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ValidationError("web did not answer /healthz on port \(port) within 20 s")
    }
}
