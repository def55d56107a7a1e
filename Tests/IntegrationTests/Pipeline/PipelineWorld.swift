import Foundation
import Jobs
import Logging
import SwitchboardAI
import SwitchboardConversations
import SwitchboardJSON
import SwitchboardKnowledge
import SwitchboardPostgres
@testable import SwitchboardQueue
import SwitchboardRedis
import SwitchboardStore
import SwitchboardUnderstanding
import Synchronization
import Testing

/// A tenant of the demo distributor (the catalogue and help center in scripts/demo-data), a WhatsApp channel whose
/// sends go to a local fake Cloud API, and an in-process worker running every stage of the pipeline on a queue of its
/// own, with short burst windows.
struct PipelineWorld {
    let db: PostgresClient
    let redis: RedisClient
    let box: SecretBox
    let tenant: UUID
    let channel: UUID
    let queue: String

    static let demoData = TestEnvironment.packageRoot.appendingPathComponent("scripts/demo-data")

    static func make(_ label: String, settings: PipelineSettings = PipelineWorld.fastSettings) async throws -> PipelineWorld {
        try await SharedSchema.shared.ensureMigrated()
        let db = PostgresClient(url: try TestEnvironment.databaseURL(), maxConnections: 6)
        let box = try SecretBox(base64Key: SecretBox.generateKey())
        let tenant = try await TenantDirectory(db: db).createTenant(name: "\(label) \(UUID().uuidString.prefix(8))").id
        let address = String(UInt64.random(in: 100_000_000...999_999_999))
        let channel = try await ChannelDirectory(db: db, secretBox: box).addChannel(
            tenant: tenant, kind: .whatsapp, address: address, secrets: ChannelSecrets(appSecret: "s", verifyToken: "v", accessToken: "EAAG-test")
        ).id
        let csv = try String(contentsOf: demoData.appendingPathComponent("catalog.csv"), encoding: .utf8)
        _ = try await CatalogStore(db: db).importProducts(try CatalogReader.parse(csv, path: "catalog.csv"), tenant: tenant)
        let kb = KBStore(db: db)
        _ = try await kb.importEntries(try KBSourceReader.read(path: demoData.appendingPathComponent("kb").path), tenant: tenant)
        try await KnowledgeEmbedder(store: kb, embedder: try sharedEmbedder.get()).embedPending(tenant: tenant)
        try await PipelineSettingsStore(db: db).save(settings, tenant: tenant)
        return PipelineWorld(db: db, redis: try makeRedis(), box: box, tenant: tenant, channel: channel, queue: uniqueQueueName("turns"))
    }

    /// Windows short enough for tests: 600 ms of quiet ends a burst, 4 s caps it.
    static var fastSettings: PipelineSettings { bursts(window: .milliseconds(600), maxWait: .seconds(4)) }

    /// Default settings but for the burst window (quiet that ends a burst) and its cap.
    static func bursts(window: Duration, maxWait: Duration) -> PipelineSettings {
        var s = PipelineSettings()
        s.burstWindow = window
        s.burstMaxWait = maxWait
        return s
    }

    /// Runs `body` with a worker running the pipeline (sends to `messaging`'s port).
    func withWorker(messagingPort: Int, ai: TenantAI? = nil, intakeWait: Duration = .seconds(120), _ body: () async throws -> Void) async throws {
        var outbound = OutboundSettings()
        outbound.whatsappBaseURL = "http://127.0.0.1:\(messagingPort)"
        outbound.secretBox = box
        var pipeline = Pipeline(
            db: db, queue: JobQueue(redis: redis), embedder: try sharedEmbedder.get(),
            intentModel: try IntentModelFile.read(path: TestEnvironment.packageRoot.appendingPathComponent("Models/intents/intents.sbm").path),
            ai: ai,
            outbound: outbound)
        pipeline.successorQueue = queue
        pipeline.intakeWait = intakeWait
        let registry = JobRegistry()
        pipeline.register(in: registry)
        let worker = QueueWorker(
            redis: redis, registry: registry, options: fastWorkerOptions(queue: queue, concurrency: 8), logger: Logger(label: "turns"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await worker.run() }
            try await body()
            worker.stop()
            try await group.waitForAll()
        }
    }

    /// A customer's WhatsApp text, as the webhook receiver enqueues it.
    @discardableResult
    func customerWrites(_ text: String, from phone: String, name: String = "Ana", id: String = "wamid.\(UUID().uuidString)") async throws -> String {
        let event: JSONValue = .object([
            "from": .string(phone), "id": .string(id), "timestamp": .string(String(Int(Date().timeIntervalSince1970))), "type": .string("text"),
            "text": .object(["body": .string(text)]),
        ])
        let contact: JSONValue = .object(["profile": .object(["name": .string(name)]), "wa_id": .string(phone)])
        _ = try await JobQueue(redis: redis).enqueue(
            IngestMessage(
                tenant: tenant, channel: channel, provider: .whatsapp, event: event, contact: contact,
                receivedAtMs: Int64(Date().timeIntervalSince1970 * 1000)),
            options: .init(queue: queue))
        return id
    }

    /// The customer's conversation (once ingest stored it).
    func conversation(of phone: String) async throws -> UUID? {
        try await db.withTenant(tenant) { conn in
            try conn.query(
                """
                SELECT c.id FROM conversations c JOIN customer_identities i ON i.customer_id = c.customer_id
                WHERE i.value = $1 ORDER BY c.created_at DESC LIMIT 1
                """, [.text(phone)]
            ).first?.decode("id", as: UUID.self)
        }
    }

    func timeline(of phone: String) async throws -> ConversationTimeline? {
        guard let id = try await conversation(of: phone) else { return nil }
        return try await ConversationStore(db: db).timeline(id: id)
    }

    /// Waits until the customer's conversation has `count` decided turns, and returns its timeline.
    func decidedTurns(_ count: Int, of phone: String, timeout: Duration = .seconds(60)) async throws -> ConversationTimeline {
        var last: ConversationTimeline?
        try await expectEventually(timeout: timeout) {
            last = try await timeline(of: phone)
            return (last?.turns.filter { $0.decision != nil }.count ?? 0) >= count
        }
        return try #require(last)
    }

    /// A conversation with one inbound message made into an understood turn, without a worker: for tests that run
    /// `decide-turn` alone.
    func understoodTurn(_ text: String, phone: String) async throws -> (conversation: UUID, turn: UUID) {
        let (tenant, channel) = (self.tenant, self.channel)
        let (conversation, message) = try await db.withTenant(tenant) { conn -> (UUID, UUID) in
            let customer: UUID = try conn.query("INSERT INTO customers (tenant_id) VALUES ($1) RETURNING id", [.uuid(tenant)])[0].decode("id")
            try conn.execute(
                "INSERT INTO customer_identities (tenant_id, customer_id, kind, value) VALUES ($1, $2, 'wa_id', $3)",
                [.uuid(tenant), .uuid(customer), .text(phone)])
            let conversation: UUID = try conn.query(
                "INSERT INTO conversations (tenant_id, customer_id, channel_id) VALUES ($1, $2, $3) RETURNING id",
                [.uuid(tenant), .uuid(customer), .uuid(channel)])[0].decode("id")
            let message: UUID = try conn.query(
                """
                INSERT INTO messages (tenant_id, channel_id, conversation_id, provider_message_id, direction, type, text, raw, sent_at)
                VALUES ($1, $2, $3, $4, 'inbound', 'text', $5, '{}', now()) RETURNING id
                """, [.uuid(tenant), .uuid(channel), .uuid(conversation), .text("wamid.\(UUID())"), .text(text)])[0].decode("id")
            return (conversation, message)
        }
        let model = try IntentModelFile.read(path: TestEnvironment.packageRoot.appendingPathComponent("Models/intents/intents.sbm").path)
        let understanding = try await TurnClassifier(model: model, embedder: try sharedEmbedder.get()).understand(text)
        let turn = try await db.withTenant(tenant) { conn -> UUID in
            guard
                case .created(let turn) = try TurnStore.coalesce(
                    tenant: tenant, conversation: conversation, burst: [message], closedAt: Date(), conn: conn)
            else { throw TestFailure("the turn was not created") }
            try TurnStore.saveUnderstanding(understanding, turn: turn.id, conn: conn)
            return turn.id
        }
        return (conversation, turn)
    }

    /// Enqueues a job on the world's queue and waits until a worker has run it to its end: `done`, or gone (the test
    /// worker keeps no finished jobs; enqueue wrote the job's record, so only a finish removes it).
    func run<P: JobParameters>(_ parameters: P, options: JobOptions = JobOptions(), timeout: Duration = .seconds(30)) async throws {
        var o = options
        o.queue = queue
        let id = try await JobQueue(redis: redis).enqueue(parameters, options: o)
        var state = "?"
        try await expectEventually(timeout: timeout) {
            state = try await QueueInspector(redis: redis).job(id, queue: queue)?.state ?? "gone"
            if state == "dead" { throw TestFailure("\(P.jobName) died") }
            return state == "done" || state == "gone"
        }
    }

    func shutdown() async throws {
        try await redis.shutdown()
        try await db.shutdown()
    }

    static func phone() -> String { "1555\(Int.random(in: 1_000_000...9_999_999))" }
}
