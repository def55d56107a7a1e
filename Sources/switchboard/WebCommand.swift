import UnixSignals
import ArgumentParser
import Hummingbird
import Logging
import ServiceLifecycle
import SwitchboardRedis

struct WebCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "web",
        abstract: "Run the HTTP process: health and readiness now, the provider webhooks as they land.",
        discussion: """
            Routes: GET /healthz (the process is up), GET /readyz (Redis answers PING; 503 otherwise).
            Listens on HOST:PORT (default 127.0.0.1:8080). SIGTERM or SIGINT stops it gracefully.

            Examples:
              switchboard web
              PORT=9000 HOST=0.0.0.0 switchboard web
            """)

    func run() async throws {
        let settings = try Settings.fromEnvironment()
        let logger = settings.bootstrapLogging()
        let redis = RedisClient(configuration: try settings.redisConfiguration(), maxConnections: 2)

        let router = Router()
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/readyz") { _, context -> Response in
            do {
                try await redis.command(["PING"])
                return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ready\n")))
            } catch {
                context.logger.warning("not ready", metadata: ["error": "\(error)"])
                return Response(
                    status: .serviceUnavailable, headers: [.retryAfter: "5"],
                    body: .init(byteBuffer: ByteBuffer(string: "redis unreachable\n")))
            }
        }
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "switchboard"),
            logger: logger)
        let group = ServiceGroup(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
        try await redis.shutdown()
    }
}
