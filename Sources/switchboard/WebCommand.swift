import UnixSignals
import ArgumentParser
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import SwitchboardPostgres
import SwitchboardQueue
import SwitchboardRedis
import SwitchboardStore
import SwitchboardWebhooks
import Jobs

struct WebCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "web",
        abstract: "Run the HTTP process: provider webhooks, health, readiness and metrics.",
        discussion: """
            Routes: POST /webhooks/whatsapp (and GET for Meta's handshake), POST /webhooks/twilio, POST /webhooks/email;
            GET /healthz (the process is up), GET /readyz (Redis answers PING; 503 otherwise), GET /metrics (Prometheus).
            A webhook is answered 200 only after Redis accepted every job it carries; 503 with Retry-After when Redis
            does not answer within 2 s. Needs REDIS_URL, DATABASE_URL (channel routing) and SWITCHBOARD_SECRET_KEY
            (channel secrets); PUBLIC_URL for Twilio behind a proxy; INGEST_QUEUE (default ingest); WEBHOOK_MAX_BYTES (default 1 MB).
            Listens on HOST:PORT (default 127.0.0.1:8080). SIGTERM or SIGINT stops it gracefully.

            Slow and idle clients: a connection with no request is closed after WEB_IDLE_TIMEOUT (default 30s); a
            request's head must arrive within WEB_HEAD_TIMEOUT of its first byte (10s) and its body within
            WEB_BODY_TIMEOUT of the head (30s). At most WEB_MAX_CONNECTIONS are open at once (default half the
            open-file limit, at most 10000); past it new connections are closed at once, with a warning at most every
            10 s. Clients that stall or go away are logged as notices, one line per kind every 10 s with the count.

            Examples:
              switchboard web
              PORT=9000 HOST=0.0.0.0 PUBLIC_URL=https://hooks.example.com switchboard web
            """)

    func run() async throws {
        let settings = try Settings.fromEnvironment()
        let logger = settings.bootstrapLogging()
        let redis = RedisClient(configuration: try settings.redisConfiguration(), maxConnections: 8)
        let db = PostgresClient(url: settings.databaseURL, maxConnections: 4)
        try await withClients([redis, db]) { try await serve(settings: settings, logger: logger, redis: redis, db: db) }
    }

    private func serve(settings: Settings, logger: Logger, redis: RedisClient, db: PostgresClient) async throws {
        let prometheus = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: prometheus))

        let batcher = EnqueueBatcher(queue: JobQueue(redis: redis))
        var webhookOptions = WebhookRoutes.Options()
        webhookOptions.maxBodyBytes = settings.webhookMaxBytes
        webhookOptions.publicBaseURL = settings.publicURL
        let webhooks = WebhookRoutes(
            router: ChannelRouter(directory: ChannelDirectory(db: db, secretBox: try settings.secretBox())),
            intake: WebhookIntake(batcher: batcher, queueName: settings.ingestQueue, marksMessages: true), options: webhookOptions,
            logger: logger)

        let router = buildRouter(
            webhooks: webhooks, ready: { (try? await redis.command(["PING"])) != nil }, metrics: { prometheus.emitToBuffer() })
        let app = buildApplication(
            router: router, host: settings.host, port: settings.port, limits: settings.connectionLimits, logger: logger)
        // Stopped in reverse order: the server stops taking requests first, then the batcher sends what is left.
        let group = ServiceGroup(services: [batcher, app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }
}
