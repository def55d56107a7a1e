import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import SwitchboardQueue
import SwitchboardStore
import SwitchboardWebhooks
import Synchronization
import Testing

/// The web routes driven in process through Hummingbird's router test client: no socket, no `web` process.
@Suite("Webhook router", .timeLimit(.minutes(2)))
struct WebhookRouterTests {
    /// Runs `body` against the routes of `harness`'s tenant, with an enqueue batcher running.
    func withRouter(
        _ harness: WebhookHarness, ready: Bool = true, _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        let batcher = EnqueueBatcher(queue: JobQueue(redis: harness.redis))
        let running = Task { try await batcher.run() }
        defer { running.cancel() }
        var options = WebhookRoutes.Options()
        options.publicBaseURL = WebhookHarness.publicURL
        let webhooks = WebhookRoutes(
            router: ChannelRouter(directory: ChannelDirectory(db: harness.db, secretBox: try SecretBox(base64Key: try TestEnvironment.secretKey()))),
            intake: WebhookIntake(batcher: batcher, queueName: harness.queue), options: options, logger: Logger(label: "router-test"))
        let router = buildRouter(webhooks: webhooks, ready: { ready }, metrics: { Array("switchboard_up 1\n".utf8) })
        let app = Application(router: router, logger: Logger(label: "router-test"))
        try await app.test(.router) { client in try await body(client) }
    }

    @Test func aSignedWhatsAppPostIsAcceptedAndAnUnsignedOneRefused() async throws {
        let harness = try await WebhookHarness.make(web: false)
        let body = try harness.routed("wa_image.json")
        try await withRouter(harness) { client in
            let signed = try await client.execute(
                uri: "/webhooks/whatsapp", method: .post,
                headers: [
                    .contentType: "application/json", HTTPField.Name("X-Hub-Signature-256")!: WebhookHarness.metaSignature(body, harness.appSecret),
                ],
                body: ByteBuffer(bytes: body))
            #expect(signed.status == .ok)
            #expect(String(buffer: signed.body).contains(#""accepted":1"#))
            let forged = try await client.execute(
                uri: "/webhooks/whatsapp", method: .post,
                headers: [.contentType: "application/json", HTTPField.Name("X-Hub-Signature-256")!: "sha256=" + String(repeating: "0", count: 64)],
                body: ByteBuffer(bytes: body))
            #expect(forged.status == .unauthorized)
            let handshake = try await client.execute(
                uri: "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=\(harness.verifyToken)&hub.challenge=12345", method: .get)
            #expect(handshake.status == .ok && String(buffer: handshake.body) == "12345")
        }
        #expect(try await harness.queuedJobs == 1, "only the signed post became a job")
        try await harness.shutdown()
    }

    @Test func healthReadinessAndMetricsAnswer() async throws {
        let harness = try await WebhookHarness.make(web: false)
        try await withRouter(harness) { client in
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/readyz", method: .get).status == .ok)
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            #expect(String(buffer: metrics.body).contains("switchboard_up 1"))
        }
        try await withRouter(harness, ready: false) { client in
            let notReady = try await client.execute(uri: "/readyz", method: .get)
            #expect(notReady.status == .serviceUnavailable && notReady.headers[.retryAfter] == "5")
        }
        try await harness.shutdown()
    }
}
