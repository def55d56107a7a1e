import Foundation
import SwitchboardProcess
import Jobs
import Logging
import SwitchboardHTTP
import SwitchboardPostgres
import SwitchboardQueue
import SwitchboardRedis
import SwitchboardStore
import SwitchboardWebhooks
import Testing

/// One tenant with a WhatsApp, a Twilio and an email channel of its own (fresh addresses), a `switchboard web`
/// process putting its jobs on a private queue, and helpers to post, drain the queue with a worker, and read rows.
final class WebhookHarness: @unchecked Sendable {
    // @unchecked: set up once in `make`, then read-only.
    static let fixtures = TestEnvironment.packageRoot.appendingPathComponent("Tests/Fixtures/webhooks").path
    static let publicURL = "https://hooks.switchboard.test"

    let db: PostgresClient
    let redis: RedisClient
    let http = HTTPClient(poolSize: 4)
    let queue = uniqueQueueName("ingest")
    let tenant: UUID
    let phoneNumberID = String(UInt64.random(in: 100_000_000_000...999_999_999_999))
    let appSecret = "app-secret-\(UUID().uuidString.prefix(8))"
    let twilioNumber = "+1555" + String(UInt64.random(in: 1_000_000...9_999_999))
    let twilioToken = "twilio-token-\(UUID().uuidString.prefix(8))"
    let emailAddress = "support-\(UUID().uuidString.prefix(8).lowercased())@inbound.switchboard.test"
    let emailToken = "email-token-\(UUID().uuidString.prefix(8))"
    let verifyToken = "verify-\(UUID().uuidString.prefix(8))"
    private(set) var channels: [ChannelKind: UUID] = [:]
    private(set) var web: (pid: pid_t, port: Int, log: String)? = nil

    private init(redisURL: String) async throws {
        try await SharedSchema.shared.ensureMigrated()
        db = PostgresClient(url: try TestEnvironment.databaseURL(), maxConnections: 4)
        redis = RedisClient(configuration: try RedisConfiguration(url: redisURL), maxConnections: 4)
        tenant = try await TenantDirectory(db: db).createTenant(name: "Webhook Shop").id
    }

    /// Sets everything up; `redisURL` lets a test give the web process a Redis it can stop; `web: false` starts no
    /// `switchboard web` process (for router tests without a socket).
    static func make(redisURL: String? = nil, web: Bool = true) async throws -> WebhookHarness {
        let url = try redisURL ?? TestEnvironment.redisURL()
        let h = try await WebhookHarness(redisURL: url)
        let directory = ChannelDirectory(db: h.db, secretBox: try SecretBox(base64Key: try TestEnvironment.secretKey()))
        h.channels[.whatsapp] = try await directory.addChannel(
            tenant: h.tenant, kind: .whatsapp, address: h.phoneNumberID, secrets: .init(appSecret: h.appSecret, verifyToken: h.verifyToken)
        ).id
        h.channels[.twilio] = try await directory.addChannel(
            tenant: h.tenant, kind: .twilio, address: h.twilioNumber, secrets: .init(authToken: h.twilioToken)
        ).id
        h.channels[.email] = try await directory.addChannel(
            tenant: h.tenant, kind: .email, address: h.emailAddress, secrets: .init(inboundToken: h.emailToken)
        ).id
        if web { try await h.startWeb(redisURL: url) }
        return h
    }

    func startWeb(redisURL: String, environment extra: [String: String] = [:]) async throws {
        let port = try freeLoopbackPort()
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("web-\(queue).log").path
        let pid = try spawnWithCleanSignals(
            [try TestEnvironment.switchboardBinary(), "web"], outputPath: log,
            environment: ["PORT": String(port), "REDIS_URL": redisURL, "INGEST_QUEUE": queue, "PUBLIC_URL": Self.publicURL, "LOG_LEVEL": "warning"]
                .merging(extra) { $1 })
        web = (pid, port, log)
        try await expectEventually { (try? await self.http.execute(.init(url: "http://127.0.0.1:\(port)/healthz")))?.status == 200 }
    }

    func shutdown() async throws {
        if let web {
            kill(web.pid, SIGTERM)
            #expect(await waitForChild(web.pid) == 0, "web log: \(webLog)")
        }
        try await http.shutdown()
        try await redis.shutdown()
        try await db.shutdown()
    }

    var webLog: String { web.flatMap { try? String(contentsOfFile: $0.log, encoding: .utf8) } ?? "" }

    // MARK: - Requests

    func post(_ path: String, _ body: [UInt8], contentType: String?, headers: [(String, String)] = []) async throws -> HTTPClient.Response {
        var fields = headers.map { HTTPClient.HeaderField($0.0, $0.1) }
        if let contentType { fields.append(.init("Content-Type", contentType)) }
        return try await http.execute(.init(method: "POST", url: "http://127.0.0.1:\(web!.port)\(path)", headers: fields, body: body))
    }

    /// A WhatsApp fixture with this harness's phone_number_id, signed with its app secret.
    func whatsapp(_ body: [UInt8]) async throws -> HTTPClient.Response {
        try await post(
            "/webhooks/whatsapp", body, contentType: "application/json", headers: [("X-Hub-Signature-256", Self.metaSignature(body, appSecret))])
    }

    /// A Twilio form body sent to this harness's number, signed for the public URL.
    func twilio(_ form: String) async throws -> HTTPClient.Response {
        let parameters = try FormBody.parse(Array(form.utf8))
        let signature = WebhookSignature.twilio(url: Self.publicURL + "/webhooks/twilio", parameters: parameters, authToken: twilioToken)
        return try await post(
            "/webhooks/twilio", Array(form.utf8), contentType: "application/x-www-form-urlencoded", headers: [("X-Twilio-Signature", signature)])
    }

    static func metaSignature(_ body: [UInt8], _ secret: String) -> String {
        "sha256=" + HMACHex.sha256(key: Array(secret.utf8), message: body)
    }

    static func fixture(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: "\(fixtures)/\(name)")))
    }

    /// The fixture with every phone_number_id replaced by this harness's.
    func routed(_ name: String) throws -> [UInt8] {
        let text = String(decoding: try Self.fixture(name), as: UTF8.self)
        let pattern = try NSRegularExpression(pattern: #""phone_number_id"\s*:\s*"[^"]*""#)
        let replaced = pattern.stringByReplacingMatches(
            in: text, range: NSRange(text.startIndex..., in: text), withTemplate: "\"phone_number_id\": \"\(phoneNumberID)\"")
        return Array(replaced.utf8)
    }

    // MARK: - Queue and rows

    var queuedJobs: Int {
        get async throws {
            let s = try await QueueInspector(redis: redis).stats(queue: queue)
            return s.ready + s.scheduled + s.active + s.retry
        }
    }

    /// Runs a worker with the pipeline's jobs until the queue is empty and nothing is running.
    func drain() async throws {
        var options = fastWorkerOptions(queue: queue)
        options.queues = [queue]
        let db = self.db
        try await withWorker(redis: redis, options: options, register: { Pipeline(db: db, queue: JobQueue(redis: self.redis)).register(in: $0) }) {
            _ in
            try await expectEventually(timeout: .seconds(20)) { try await self.queuedJobs == 0 }
        }
        let dead = try await QueueInspector(redis: redis).list(queues: [queue], states: ["dead", "retry"], limit: 5).map { $0.errorsJSON ?? "" }
        #expect(dead.isEmpty, "jobs failed: \(dead)")
    }

    /// Rows of a query run with the tenant's scope.
    func rows(_ sql: String, _ binds: [PostgresValue] = []) async throws -> [[String: String]] {
        let tenant = self.tenant
        return try await db.withTenant(tenant) { conn in
            let result = try conn.query(sql, binds)
            return result.map { row in
                var out: [String: String] = [:]
                for name in result.columns { out[name] = try? row.decode(name, as: String.self) }
                return out
            }
        }
    }
}

/// Hex HMAC-SHA256 for signing test requests, via swift-crypto.
enum HMACHex {
    static func sha256(key: [UInt8], message: [UInt8]) -> String {
        WebhookSignature.hmacSHA256Hex(key: key, message: message)
    }
}
