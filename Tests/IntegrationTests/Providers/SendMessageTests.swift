import Foundation
import HTTPTypes
import Hummingbird
import Jobs
import Logging
import NIOCore
import SwitchboardJSON
import SwitchboardPostgres
@testable import SwitchboardQueue
import SwitchboardRedis
import SwitchboardStore
import Synchronization
import Testing

/// A local WhatsApp Cloud API and Twilio in their documented shapes. Every WhatsApp send is answered with a `wamid`,
/// and `onSent` is called with it and the send's `biz_opaque_callback_data`, as Meta's status webhook would carry.
final class FakeMessagingServer: Sendable {
    struct Received: Sendable {
        let path: String
        let to: String
        let text: String
        let reference: String?
        let form: [String: String]
    }
    private let received = Mutex<[Received]>([])
    let onSent: @Sendable (_ wamid: String, _ reference: String, _ to: String) async -> Void

    init(onSent: @escaping @Sendable (String, String, String) async -> Void = { _, _, _ in }) { self.onSent = onSent }

    var all: [Received] { received.withLock { $0 } }

    func run(_ body: @Sendable (Int) async throws -> Void) async throws {
        let router = Router()
        router.post("/v21.0/:phone/messages") { request, context -> Response in
            let json = (try? JSONValue.parse(Array(try await request.body.collect(upTo: 1 << 20).readableBytesView))) ?? .null
            let text = json["text"]?["body"]?.string ?? ""
            let to = json["to"]?.string ?? ""
            let reference = json["biz_opaque_callback_data"]?.string
            let n = self.received.withLock { r -> Int in
                r.append(Received(path: request.uri.path, to: to, text: text, reference: reference, form: [:]))
                return r.count
            }
            if text == "reject me" {
                return Self.json(.badRequest, #"{"error":{"message":"(#100) Invalid parameter","type":"OAuthException","code":100}}"#)
            }
            let wamid = "wamid.TEST\(n)"
            if let reference { Task { await self.onSent(wamid, reference, to) } }
            return Self.json(
                .ok, #"{"messaging_product":"whatsapp","contacts":[{"input":"\#(to)","wa_id":"\#(to)"}],"messages":[{"id":"\#(wamid)"}]}"#)
        }
        router.post("/2010-04-01/Accounts/:sid/Messages.json") { request, _ -> Response in
            let body = String(buffer: try await request.body.collect(upTo: 1 << 20))
            var form: [String: String] = [:]
            for pair in body.split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1).map {
                    String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
                }
                if kv.count == 2 { form[kv[0]] = kv[1] }
            }
            let n = self.received.withLock { r -> Int in
                r.append(Received(path: request.uri.path, to: form["To"] ?? "", text: form["Body"] ?? "", reference: nil, form: form))
                return r.count
            }
            return Self.json(.created, #"{"sid":"SMTEST\#(n)","status":"queued","to":"\#(form["To"] ?? "")"}"#)
        }
        try await withLocalServer(router, label: "fake-messaging", body)
    }

    private static func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// A tenant with a sending channel, a customer who wrote `lastWroteAgo` ago, and a conversation.
struct SendWorld {
    let db: PostgresClient
    let box: SecretBox
    let key: String
    let tenant: UUID
    let channel: UUID
    let conversation: UUID
    let recipient: String

    static func make(kind: ChannelKind, lastWroteAgo: Duration = .seconds(60)) async throws -> SendWorld {
        try await SharedSchema.shared.ensureMigrated()
        let db = PostgresClient(url: try TestEnvironment.databaseURL(), maxConnections: 4)
        let key = SecretBox.generateKey()
        let box = try SecretBox(base64Key: key)
        let tenant = try await TenantDirectory(db: db).createTenant(name: "send \(UUID().uuidString.prefix(8))").id
        let address = kind == .whatsapp ? String(UInt64.random(in: 100_000_000...999_999_999)) : "+1415\(Int.random(in: 1_000_000...9_999_999))"
        let secrets =
            kind == .whatsapp
            ? ChannelSecrets(appSecret: "s", verifyToken: "v", accessToken: "EAAG-test-token")
            : ChannelSecrets(authToken: "twilio-token", accountSID: "AC\(UUID().uuidString.prefix(8))")
        let channel = try await ChannelDirectory(db: db, secretBox: box).addChannel(tenant: tenant, kind: kind, address: address, secrets: secrets).id
        let recipient = kind == .whatsapp ? "15550001111" : "+15550001111"
        let conversation: UUID = try await db.withTenant(tenant) { conn in
            let customer: UUID = try conn.query("INSERT INTO customers (tenant_id) VALUES ($1) RETURNING id", [.uuid(tenant)])[0].decode("id")
            try conn.execute(
                "INSERT INTO customer_identities (tenant_id, customer_id, kind, value) VALUES ($1, $2, $3, $4)",
                [.uuid(tenant), .uuid(customer), .text(kind == .whatsapp ? "wa_id" : "phone"), .text(recipient)])
            let conversation: UUID = try conn.query(
                "INSERT INTO conversations (tenant_id, customer_id, channel_id) VALUES ($1, $2, $3) RETURNING id",
                [.uuid(tenant), .uuid(customer), .uuid(channel)])[0].decode("id")
            try conn.execute(
                """
                INSERT INTO messages (tenant_id, channel_id, conversation_id, provider_message_id, direction, type, text, raw, sent_at)
                VALUES ($1, $2, $3, $4, 'inbound', 'text', 'hola', '{}', now() - make_interval(secs => $5))
                """, [.uuid(tenant), .uuid(channel), .uuid(conversation), .text("wamid.in.\(UUID())"), .int(lastWroteAgo.components.seconds)])
            return conversation
        }
        return SendWorld(db: db, box: box, key: key, tenant: tenant, channel: channel, conversation: conversation, recipient: recipient)
    }

    /// A world, a Redis client and a fake provider (made by `server`, which may post statuses through the client) for one
    /// test: `body` gets them and the provider's port; the world's database and the client are shut down when `body`
    /// ends, however it ends.
    static func run(
        kind: ChannelKind, lastWroteAgo: Duration = .seconds(60),
        server makeServer: (SendWorld, RedisClient) -> FakeMessagingServer = { _, _ in FakeMessagingServer() },
        _ body: @Sendable (SendWorld, RedisClient, FakeMessagingServer, Int) async throws -> Void
    ) async throws {
        let world = try await make(kind: kind, lastWroteAgo: lastWroteAgo)
        let redis = try makeRedis()
        do {
            let server = makeServer(world, redis)
            try await server.run { port in try await body(world, redis, server, port) }
        } catch {
            try? await redis.shutdown()
            try? await world.db.shutdown()
            throw error
        }
        try await redis.shutdown()
        try await world.db.shutdown()
    }

    /// A fake WhatsApp API that, after `delay`, posts each send's `status` back as a `message-status` job on
    /// `statusQueue`, carrying our reference, as Meta's status webhook would.
    static func postingStatuses(_ status: String, to statusQueue: String, after delay: Duration = .zero) -> (SendWorld, RedisClient) ->
        FakeMessagingServer
    {
        { world, redis in
            FakeMessagingServer { wamid, reference, to in
                if delay > .zero { try? await Task.sleep(for: delay) }
                let event = JSONValue.object([
                    "id": .string(wamid), "status": .string(status), "timestamp": .string("1700000000"), "recipient_id": .string(to),
                    "biz_opaque_callback_data": .string(reference),
                ])
                _ = try? await JobQueue(redis: redis).enqueue(
                    MessageStatusUpdate(tenant: world.tenant, channel: world.channel, provider: .whatsapp, event: event, receivedAtMs: 0),
                    options: .init(queue: statusQueue))
            }
        }
    }

    func row(_ id: UUID) async throws -> (state: String, providerID: String, status: String?, resends: Int64, error: String?) {
        try await db.withTenant(tenant) { conn in
            let r = try conn.query(
                "SELECT send_state, provider_message_id, provider_status, resends, send_error FROM messages WHERE id = $1", [.uuid(id)])[0]
            return (
                try r.decode("send_state"), try r.decode("provider_message_id"), try r.decodeIfPresent("provider_status"), try r.decode("resends"),
                try r.decodeIfPresent("send_error")
            )
        }
    }
}

private func pipelineWorker(
    _ world: SendWorld, port: Int, queues: [String], redis: RedisClient, uncertainWait: Duration = .seconds(30), concurrency: Int = 2,
    logger: Logger = Logger(label: "send")
) -> (QueueWorker, Pipeline) {
    var outbound = OutboundSettings()
    outbound.whatsappBaseURL = "http://127.0.0.1:\(port)"
    outbound.twilioBaseURL = "http://127.0.0.1:\(port)"
    outbound.publicURL = "https://hooks.example.test"
    outbound.secretBox = world.box
    outbound.uncertainWait = uncertainWait
    let pipeline = Pipeline(db: world.db, queue: JobQueue(redis: redis), outbound: outbound)
    let registry = JobRegistry()
    pipeline.register(in: registry)
    var options = fastWorkerOptions(queue: queues[0], concurrency: concurrency)
    options.queues = queues
    return (QueueWorker(redis: redis, registry: registry, options: options, logger: logger), pipeline)
}

/// Runs `worker` until `message`, enqueued as a `send-message` job on `queue`, is recorded sent.
private func sendUntilSent(_ message: UUID, world: SendWorld, worker: QueueWorker, pipeline: Pipeline, queue: String) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await worker.run() }
        _ = try await pipeline.queue.enqueue(SendMessage(tenant: world.tenant, message: message), options: .init(queue: queue))
        try await expectEventually(timeout: .seconds(15)) { try await world.row(message).state == "sent" }
        worker.stop()
        try await group.waitForAll()
    }
}

@Suite("Outbound messages: sent once, through the channel's provider", .serialized, .timeLimit(.minutes(6)))
struct SendMessageTests {
    @Test func aWhatsAppReplyGoesOutOnceWithOurReferenceAndItsStatusLands() async throws {
        let (sendQueue, statusQueue) = (uniqueQueueName("out"), uniqueQueueName("status"))
        try await SendWorld.run(kind: .whatsapp, server: SendWorld.postingStatuses("delivered", to: statusQueue)) { world, redis, server, port in
            let (worker, pipeline) = pipelineWorker(world, port: port, queues: [sendQueue, statusQueue], redis: redis)
            let message = try await SendMessage.store(
                "Tenemos tomate roma, ¿cuántos kilos?", replyTo: "wamid.in.1", tenant: world.tenant, conversation: world.conversation, db: world.db)
            #expect(try await world.row(message).state == "queued")
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await worker.run() }
                _ = try await pipeline.queue.enqueue(SendMessage(tenant: world.tenant, message: message), options: .init(queue: sendQueue))
                try await expectEventually(timeout: .seconds(15)) { try await world.row(message).status == "delivered" }
                // Sending the same message again sends nothing.
                _ = try await pipeline.queue.enqueue(SendMessage(tenant: world.tenant, message: message), options: .init(queue: sendQueue))
                try await Task.sleep(for: .seconds(1))
                worker.stop()
                try await group.waitForAll()
            }
            let row = try await world.row(message)
            #expect(row.state == "sent" && row.providerID == "wamid.TEST1" && row.resends == 0)
            #expect(server.all.count == 1)
            let sent = try #require(server.all.first)
            #expect(sent.to == world.recipient && sent.text == "Tenemos tomate roma, ¿cuántos kilos?" && sent.reference?.hasPrefix("sb-") == true)
        }
    }

    @Test func aTwilioReplyCarriesItsReferenceOnTheStatusCallback() async throws {
        let queue = uniqueQueueName("out")
        try await SendWorld.run(kind: .twilio) { world, redis, server, port in
            let (worker, pipeline) = pipelineWorker(world, port: port, queues: [queue], redis: redis)
            let message = try await SendMessage.store("Your order is confirmed", tenant: world.tenant, conversation: world.conversation, db: world.db)
            try await sendUntilSent(message, world: world, worker: worker, pipeline: pipeline, queue: queue)
            #expect(try await world.row(message).providerID == "SMTEST1")
            let form = try #require(server.all.first?.form)
            #expect(form["To"] == world.recipient && form["Body"] == "Your order is confirmed")
            #expect(form["StatusCallback"]?.hasPrefix("https://hooks.example.test/webhooks/twilio?sb_ref=sb-") == true)
        }
    }

    @Test func aWhatsAppReplyOutsideThe24HourWindowIsRefusedAndARejectionIsNotRetried() async throws {
        let queue = uniqueQueueName("out")
        try await SendWorld.run(kind: .whatsapp, lastWroteAgo: .seconds(25 * 3600)) { stale, redis, server, port in
            let (worker, pipeline) = pipelineWorker(stale, port: port, queues: [queue], redis: redis)
            let late = try await SendMessage.store("Hello again", tenant: stale.tenant, conversation: stale.conversation, db: stale.db)
            let rejected = try await SendMessage.store("reject me", tenant: stale.tenant, conversation: stale.conversation, db: stale.db)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await worker.run() }
                _ = try await pipeline.queue.enqueue(SendMessage(tenant: stale.tenant, message: late), options: .init(queue: queue))
                try await expectEventually(timeout: .seconds(15)) { try await QueueInspector(redis: redis).stats(queue: queue).dead == 1 }
                // The customer writes again: the next reply is inside the window, and the provider refuses it.
                try await stale.db.withTenant(stale.tenant) { conn in
                    try conn.execute("UPDATE messages SET sent_at = now() WHERE direction = 'inbound'")
                }
                _ = try await pipeline.queue.enqueue(SendMessage(tenant: stale.tenant, message: rejected), options: .init(queue: queue))
                try await expectEventually(timeout: .seconds(15)) { try await QueueInspector(redis: redis).stats(queue: queue).dead == 2 }
                worker.stop()
                try await group.waitForAll()
            }
            let lateRow = try await stale.row(late)
            #expect(lateRow.state == "failed" && lateRow.error?.contains("24-hour") == true)
            let rejectedRow = try await stale.row(rejected)
            #expect(rejectedRow.state == "failed" && rejectedRow.error?.contains("HTTP 400") == true)
            #expect(server.all.map(\.text) == ["reject me"], "nothing sent outside the window; the refused one tried once")
        }
    }

    @Test func anUncertainSendWithNoStatusIsSentAgainOnlyAfterTheBoundedWaitAndCounted() async throws {
        let queue = uniqueQueueName("out")
        try await SendWorld.run(kind: .whatsapp) { world, redis, server, port in
            let log = CapturedLog()
            let (worker, pipeline) = pipelineWorker(
                world, port: port, queues: [queue], redis: redis, uncertainWait: .seconds(3), concurrency: 1,
                logger: Logger(label: "send") { _ in CapturingLogHandler(log: log) })
            // A send that began and whose worker died: 'sending', and no status will ever come.
            let message = try await SendMessage.store("are you there?", tenant: world.tenant, conversation: world.conversation, db: world.db)
            try await world.db.withTenant(world.tenant) { conn in
                try conn.execute("UPDATE messages SET send_state = 'sending', send_started_at = now() WHERE id = $1", [.uuid(message)])
            }
            let began = ContinuousClock.now
            try await sendUntilSent(message, world: world, worker: worker, pipeline: pipeline, queue: queue)
            #expect(ContinuousClock.now - began >= .milliseconds(2500), "not sent again before the wait ran out")
            let resends = try await world.row(message).resends
            #expect(server.all.count == 1 && resends == 1)
            #expect(log.all.contains { $0.message == "sending again: no status arrived for an uncertain send" })
        }
    }

    /// SIGKILL a worker right after the provider answered a send and before the job recorded it, again and again: the
    /// provider's status (carrying our reference) resolves each send, and no message is received twice. The full
    /// form (50 kills) runs with SWITCHBOARD_LONG_TESTS=1.
    @Test func killedBetweenTheProvidersAnswerAndItsRecordNoMessageIsSentTwice() async throws {
        let kills = ProcessInfo.processInfo.environment["SWITCHBOARD_LONG_TESTS"] == "1" ? 50 : 5
        let (sendQueue, statusQueue) = (uniqueQueueName("out"), uniqueQueueName("status"))
        let statuses = SendWorld.postingStatuses("sent", to: statusQueue, after: .milliseconds(100))
        try await SendWorld.run(kind: .whatsapp, server: statuses) { world, redis, server, port in
            var messages: [UUID] = []
            let jobs = JobQueue(redis: redis)
            let environment = [
                "SWITCHBOARD_SECRET_KEY": world.key, "SWITCHBOARD_WHATSAPP_BASE_URL": "http://127.0.0.1:\(port)",
                "SWITCHBOARD_SEND_UNCERTAIN_WAIT": "60s",
            ]
            let arguments = ["--queues", "\(sendQueue),\(statusQueue)", "--processes", "1", "--concurrency", "1", "--lease", "2s", "--grace", "2s"]
            var killed = 0
            for round in 0..<kills {
                // One send per round, to a worker that SIGKILLs itself once the provider has answered it.
                let id = try await SendMessage.store("reply \(round)", tenant: world.tenant, conversation: world.conversation, db: world.db)
                messages.append(id)
                _ = try await jobs.enqueue(SendMessage(tenant: world.tenant, message: id), options: .init(queue: sendQueue))
                let marker = FileManager.default.temporaryDirectory.appendingPathComponent("send-fault-\(UUID().uuidString.prefix(8))").path
                let worker = try startWorkerProcess(
                    arguments, environment: environment.merging(["SWITCHBOARD_TEST_FAULT": "after-send:\(marker)"]) { $1 })
                try await expectEventually(timeout: .seconds(30)) { FileManager.default.fileExists(atPath: marker) }
                killed += 1
                // The supervisor restarts the child; stop it (the restarted child no longer faults).
                kill(worker.pid, SIGTERM)
                _ = await waitForChild(worker.pid)
                try? FileManager.default.removeItem(atPath: marker)
            }
            // A healthy worker finishes: the statuses land, the killed sends are found sent, the rest go out.
            let worker = try startWorkerProcess(arguments, environment: environment)
            defer { kill(worker.pid, SIGTERM) }
            try await expectEventually(timeout: .seconds(60)) {
                var states: [String] = []
                for id in messages { states.append(try await world.row(id).state) }
                return states.allSatisfy { $0 == "sent" }
            }
            kill(worker.pid, SIGTERM)
            _ = await waitForChild(worker.pid)
            let texts = server.all.map(\.text)
            let twice = Dictionary(grouping: texts, by: { $0 }).filter { $0.value.count > 1 }
            var resends: Int64 = 0
            for id in messages { resends += try await world.row(id).resends }
            print(
                "sends: \(killed) workers killed between the provider's answer and its record; \(texts.count) requests for \(kills) messages; resends after the bounded wait: \(resends)"
            )
            #expect(killed == kills)
            #expect(twice.isEmpty, "received twice: \(twice.keys.sorted())")
            #expect(Set(texts) == Set((0..<kills).map { "reply \($0)" }) && resends == 0)
        }
    }
}
