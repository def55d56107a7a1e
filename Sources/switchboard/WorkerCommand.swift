import ArgumentParser
import FoundationEssentials
import Glibc
import Jobs
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import SwitchboardPostgres
import SwitchboardQueue
import SwitchboardEmbedding
import SwitchboardRedis
import UnixSignals

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run the prefork worker pool: a supervisor and N child processes of M job slots each.",
        discussion: """
            SIGTERM drains: the children stop taking jobs, give running ones --grace to finish, hand the rest back to
            ready without using up an attempt, and exit; then the supervisor exits 0. A crashed child is restarted
            with backoff. Each process publishes a heartbeat (pid, host, queues, running jobs).

            Examples:
              switchboard worker
              switchboard worker --queues critical,default --processes 2 --concurrency 16 --grace 25s
              switchboard worker --queues critical:5,default:2,low:1
              switchboard worker --queues critical,default,low --strict
            """)

    @Option(
        help:
            "Comma-separated queues, each with an optional weight: critical:5,default:2,low:1 (weighted round-robin; a queue without a weight weighs 1)."
    )
    var queues: String = "default"
    @Flag(help: "Strict priority: always take from the first listed queue that has jobs (weights are ignored).") var strict = false
    @Flag(help: "With one queue: no direct handoff (idle workers are woken by the doorbell and lease with a take call).") var noDirectHandoff = false
    @Flag(
        help:
            "A job whose lock is busy or concurrency key full is put back 200-400 ms out and tries again, instead of waiting to be woken by the release."
    )
    var noKeyWait = false
    @Option(help: "Child processes.") var processes: Int = 2
    @Option(help: "Job slots per child process.") var concurrency: Int = 16
    @Option(help: "After SIGTERM, how long running jobs may finish before they are handed back (e.g. 25s, 500ms).") var grace: String = "25s"
    @Option(help: "How long a lease lasts without a heartbeat; a killed worker's jobs run again after about this long.") var lease: String = "10s"
    @Option(help: "Dead jobs kept per queue (the oldest beyond this are deleted).") var deadMax: Int = 10_000
    @Option(help: "Dead jobs older than this are deleted (e.g. 30d).") var deadAge: String = "30d"
    @Option(help: "Serve Prometheus metrics: child i listens on HOST:(this port + i) at GET /metrics. 0 = off.") var metricsPort: Int = 0
    @Flag(help: .hidden) var child = false
    @Option(help: .hidden) var childIndex: Int = 0

    func validate() throws {
        guard processes >= 1, processes <= 64 else { throw ValidationError("--processes must be between 1 and 64") }
        guard concurrency >= 1, concurrency <= 1000 else { throw ValidationError("--concurrency must be between 1 and 1000") }
        guard metricsPort == 0 || (1...65535).contains(metricsPort + processes - 1) else {
            throw ValidationError("--metrics-port plus the number of processes must stay within 1-65535")
        }
        for queue in queueList { try validateQueueName(queue) }
        for item in queueItems where item.weight != nil && !(1...1000).contains(item.weight!) {
            throw ValidationError("--queues: the weight of \(item.name) must be a whole number from 1 to 1000, as in critical:5")
        }
        guard Set(queueList).count == queueList.count else { throw ValidationError("--queues names a queue twice") }
        for (flag, text) in [("--grace", grace), ("--lease", lease), ("--dead-age", deadAge)] {
            do { _ = try DurationText.parse(text) } catch { throw ValidationError("\(flag): \(error.message)") }
        }
    }

    /// `name[:weight]` items of --queues.
    var queueItems: [(name: String, weight: Int?)] {
        queues.split(separator: ",").map { String($0.filter { !$0.isWhitespace }) }.filter { !$0.isEmpty }.map { item in
            let parts = item.split(separator: ":", maxSplits: 1)
            return (String(parts[0]), parts.count > 1 ? Int(parts[1]) ?? -1 : nil)
        }
    }

    var queueList: [String] { queueItems.map(\.name) }

    func run() async throws {
        let settings = try Settings.fromEnvironment()
        let logger = settings.bootstrapLogging()
        let graceDuration = try DurationText.parse(grace)
        if !child {
            let arguments = CommandLine.arguments.dropFirst().map { $0 } + ["--child"]
            let supervisor = WorkerSupervisor(
                executable: try currentExecutablePath(), childArguments: { arguments + ["--child-index", String($0)] }, processes: processes,
                grace: graceDuration, logger: logger)
            let group = ServiceGroup(services: [supervisor], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
            try await group.run()
            return
        }
        let redis = RedisClient(configuration: try settings.redisConfiguration(), maxConnections: min(concurrency, 8) + 3 + queueList.count)
        var options = WorkerOptions()
        options.queues = queueList
        options.queueWeights = Dictionary(uniqueKeysWithValues: queueItems.compactMap { item in item.weight.map { (item.name, $0) } })
        options.strictPriority = strict
        options.directHandoff = !noDirectHandoff
        options.waitForKeys = !noKeyWait
        options.concurrency = concurrency
        options.gracePeriod = graceDuration
        options.leaseDuration = try DurationText.parse(lease)
        options.heartbeatInterval = min(.seconds(2), options.leaseDuration / 4)
        options.deadRetention = Retention(count: deadMax, age: try DurationText.parse(deadAge))
        options.onHardTimeout = { id in
            // The handler ignores cancellation: only a new process frees its slot. The job's lease lapses and it is retried.
            logger.error("a job ran past its hard timeout; exiting so the supervisor restarts this process", metadata: ["job.id": "\(id)"])
            Glibc.exit(75)
        }
        if let fault = ProcessInfo.processInfo.environment["SWITCHBOARD_TEST_FAULT"] {
            options.testFault = TestFault(fault)
            logger.warning("test fault injection is on: this process will SIGKILL itself once", metadata: ["fault": "\(fault)"])
        }
        let db = PostgresClient(url: settings.databaseURL, maxConnections: min(concurrency, 8))
        // The embedded model, mapped (shared with the other children) on threads of its own. A missing model is a
        // configuration error: exit 78, which the supervisor does not restart in a loop.
        let embedder: EmbeddingService
        do {
            embedder = try EmbeddingService(modelDirectory: settings.modelDirectory, configuration: .init(threads: settings.embeddingThreads))
        } catch {
            logger.critical("cannot load the embedded model: \(error)")
            try? await redis.shutdown()
            try? await db.shutdown()
            throw ExitCode(78)
        }
        if BLASCore.isUnderusingCPU {
            logger.warning(
                "OpenBLAS runs its oldest kernels on this CPU (about 2x slower)",
                metadata: ["fix": "set OPENBLAS_CORETYPE=\(BLASCore.recommended() ?? "")"])
        }
        try await withClients([redis, db, embedder]) {
            try await runChild(options: options, redis: redis, db: db, embedder: embedder, settings: settings, logger: logger)
        }
    }

    private func runChild(
        options: WorkerOptions, redis: RedisClient, db: PostgresClient, embedder: EmbeddingService, settings: Settings, logger: Logger
    ) async throws {
        let registry = makeJobRegistry(redis: redis, db: db, embedder: embedder, settings: settings)
        var services: [any Service] = []
        if metricsPort != 0 {
            let prometheus = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: prometheus))
            let router = Router()
            router.get("/metrics") { _, _ -> Response in
                Response(
                    status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                    body: .init(byteBuffer: ByteBuffer(bytes: prometheus.emitToBuffer())))
            }
            services.append(
                Application(
                    router: router,
                    configuration: .init(address: .hostname(settings.host, port: metricsPort + childIndex), serverName: "switchboard-worker"),
                    logger: logger))
        }
        services.append(QueueWorker(redis: redis, registry: registry, options: options, logger: logger))
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }
}

/// The absolute path of the running binary (children are started from the same file).
func currentExecutablePath() throws -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard n > 0 else { throw SupervisorError("cannot find the switchboard binary (/proc/self/exe)") }
    return String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
