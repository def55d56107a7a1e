import ArgumentParser
import FoundationEssentials
import Glibc
import SwitchboardQueue
import SwitchboardRedis

/// `switchboard bench`: the queue's benchmark (the default) and the turn pipeline's.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks: the queue (default) and the turn pipeline.",
        subcommands: [QueueBenchCommand.self, PipelineBenchCommand.self, ExpiryBenchCommand.self], defaultSubcommand: QueueBenchCommand.self)
}

/// `switchboard bench [queue]`: enqueue and processing throughput, pickup latency, delayed jobs' lateness and Redis
/// commands per job, on a private queue.
struct QueueBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Measure enqueue and processing throughput, pickup latency, delayed jobs' lateness and Redis commands per job.",
        discussion: """
            Uses a private queue (bench-<random>) on REDIS_URL and starts `switchboard worker` processes itself.
            Run a release build (swift build -c release) for meaningful numbers. It resets Redis's INFO
            commandstats (CONFIG RESETSTAT), so run it on a Redis of its own.

            Examples:
              switchboard bench --jobs 20000 --processes 2 --concurrency 16
              switchboard bench --jobs 20000 --processes 2 --concurrency 16 --rate 200 --json
            """)

    @Option(help: "No-op jobs for the throughput runs.") var jobs: Int = 20_000
    @Option(help: "Worker processes.") var processes: Int = 2
    @Option(help: "Job slots per worker process.") var concurrency: Int = 16
    @Option(help: "Concurrent callers for the one-call-per-job enqueue run that shares round trips.") var producers: Int = 16
    @OptionGroup(title: "Latency runs") var latency: LatencyRunOptions
    @Flag(help: "Run the workers with --no-direct-handoff (to compare).") var noDirectHandoff = false
    @Flag(help: "Print one JSON object instead of a table.") var json = false

    /// The figures, in the JSON keys `--json` prints.
    struct Result: Codable {
        var jobs, processes, concurrency: Int
        /// Throughput, jobs per second.
        var enqueuePerJobJobsPerSecond, enqueuePerJobConcurrentJobsPerSecond, enqueueBatchJobsPerSecond: Double
        /// One caller, one call per job, its task on the Redis client's executor (``RedisClient/taskExecutor``).
        var enqueuePerJobOnClientExecutorJobsPerSecond: Double
        var producers: Int
        var processingJobsPerSecond, processingIncludingStartupJobsPerSecond: Double
        var redisCommandsPerJob, redisClientCallsPerJob: Double
        /// Pickup latency at `latencyRate` jobs per second.
        var latencyRate: Int
        var latencyP50Ms, latencyP95Ms, latencyP99Ms: Double
        /// How long after its due time a delayed job started.
        var delayedJobs: Int
        var dueLatenessP50Ms, dueLatenessP99Ms, dueLatenessMaxMs: Double
    }

    func validate() throws {
        if jobs < 1 || processes < 1 || concurrency < 1 || producers < 1 {
            throw ValidationError("--jobs, --processes, --concurrency and --producers must be at least 1")
        }
    }

    func run() async throws {
        let settings = try Settings.fromEnvironment()
        _ = settings.bootstrapLogging()
        let redis = RedisClient(configuration: try settings.redisConfiguration(), maxConnections: 4)
        let queue = "bench-\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
        let producer = JobQueue(redis: redis)
        let options = JobOptions(queue: queue)
        let clock = ContinuousClock()
        let processed = QueueKeys(queue: queue).processedToday

        // 1. Enqueue, one call per job (up to 5,000) from one caller: a task of the global executor, then one on the
        // Redis client's executor (each call inline on its connection). Then from `producers` concurrent callers (up
        // to 20,000; they share round trips), then in batches of 1,000.
        let perJob = min(jobs, 5000)
        var started = clock.now
        for _ in 0..<perJob { try await producer.enqueue(DiagnosticJobs.Noop(), options: options) }
        let perJobRate = Double(perJob) / (clock.now - started).seconds
        try await clear(redis, queue: queue)
        started = clock.now
        try await withTaskExecutorPreference(redis.taskExecutor) {
            for _ in 0..<perJob { try await producer.enqueue(DiagnosticJobs.Noop(), options: options) }
        }
        let pinnedRate = Double(perJob) / (clock.now - started).seconds
        try await clear(redis, queue: queue)
        let concurrentJobs = min(jobs, 20_000)
        started = clock.now
        try await withThrowingDiscardingTaskGroup { group in
            for p in 0..<producers {
                group.addTask {
                    for _ in stride(from: p, to: concurrentJobs, by: producers) {
                        try await producer.enqueue(DiagnosticJobs.Noop(), options: options)
                    }
                }
            }
        }
        let concurrentRate = Double(concurrentJobs) / (clock.now - started).seconds
        try await clear(redis, queue: queue)
        try await redis.command(["CONFIG", "RESETSTAT"])
        started = clock.now
        for chunk in stride(from: 0, to: jobs, by: 1000) {
            try await producer.enqueue(batch: Array(repeating: DiagnosticJobs.Noop(), count: min(1000, jobs - chunk)), options: options)
        }
        let batchRate = Double(jobs) / (clock.now - started).seconds

        // 2. Process: start the workers on a full queue; watch the processed counter.
        try await redis.command(["CONFIG", "RESETSTAT"])
        let spawnedAt = clock.now
        let worker = try ChildProcess(
            executable: try currentExecutablePath(),
            arguments: ["worker", "--queues", queue, "--processes", String(processes), "--concurrency", String(concurrency), "--grace", "5s"]
                + (noDirectHandoff ? ["--no-direct-handoff"] : []))
        var first: ContinuousClock.Instant?
        var firstCount: Int64 = 0
        var last = clock.now
        var polls = 0
        while true {
            let done = try await redis.command(["GET", .string(processed)]).int ?? 0
            polls += 1
            if done > 0 && first == nil {
                first = clock.now
                firstCount = done
            }
            if done >= Int64(jobs) {
                last = clock.now
                break
            }
            if clock.now - spawnedAt > .seconds(600) { throw ValidationError("processing did not finish within 600 s") }
            try await Task.sleep(for: .milliseconds(5))
        }
        let steady = Double(Int64(jobs) - firstCount) / (last - (first ?? spawnedAt)).seconds
        let withStartup = Double(jobs) / (last - spawnedAt).seconds
        let stats = try await commandStats(redis)
        let benchOwn = ["get": polls, "config": 1]
        let totalCommands = stats.filter { $0.key != "info" }.reduce(0) { $0 + $1.value - (benchOwn[$1.key] ?? 0) }
        let clientCalls = (stats["evalsha"] ?? 0) + (stats["blpop"] ?? 0)

        // 3. Latency at a fixed rate: each stamp job pushes (start − enqueue) in µs.
        let list = "bench:\(queue):latency"
        for _ in 0..<20 { try await producer.enqueue(DiagnosticJobs.Stamp(t_us: nowMicroseconds(), list: list), options: options) }
        try await Task.sleep(for: .milliseconds(300))
        try await redis.command(["DEL", .string(list)])
        let interval = Duration.seconds(1) / latency.rate
        let t0 = clock.now
        for i in 0..<latency.jobs {
            try await clock.sleep(until: t0 + interval * i)
            try await producer.enqueue(DiagnosticJobs.Stamp(t_us: nowMicroseconds(), list: list), options: options)
        }
        _ = try await eventuallyLength(redis, list, latency.jobs)
        let samples = (try await redis.command(["LRANGE", .string(list), 0, -1]).array ?? []).compactMap(\.int).map { Double($0) / 1000 }.sorted()

        // 4. Due times: delayed stamp jobs, due one after another over 2 s; each pushes (start − due time) in µs. The
        // due time is taken on this side just before the enqueue, so the figure includes the enqueue's round trip.
        let dueList = "bench:\(queue):due"
        for i in 0..<latency.delayedJobs {
            let delay = Duration.milliseconds(200 + 2000 * i / max(1, latency.delayedJobs))
            let due = nowMicroseconds() + delay.milliseconds * 1000
            try await producer.enqueue(DiagnosticJobs.Stamp(t_us: due, list: dueList), options: JobOptions(queue: queue, delay: delay))
        }
        _ = try await eventuallyLength(redis, dueList, latency.delayedJobs)
        let lateness = (try await redis.command(["LRANGE", .string(dueList), 0, -1]).array ?? []).compactMap(\.int).map { Double($0) / 1000 }.sorted()
        try await redis.command(["DEL", .string(dueList)])
        worker.signal(SIGTERM)
        _ = await worker.waitForExit()
        try await redis.command(["DEL", .string(list)])
        try await redis.command(["DEL", .string(processed)])
        try await redis.shutdown()

        func percentile(_ p: Double, of samples: [Double]) -> Double {
            samples.isEmpty ? .nan : samples[min(samples.count - 1, Int(Double(samples.count) * p))]
        }
        func percentile(_ p: Double) -> Double { percentile(p, of: samples) }
        func due(_ p: Double) -> Double { (percentile(p, of: lateness) * 100).rounded() / 100 }
        let result = Result(
            jobs: jobs, processes: processes, concurrency: concurrency, enqueuePerJobJobsPerSecond: perJobRate.rounded(),
            enqueuePerJobConcurrentJobsPerSecond: concurrentRate.rounded(), enqueueBatchJobsPerSecond: batchRate.rounded(),
            enqueuePerJobOnClientExecutorJobsPerSecond: pinnedRate.rounded(), producers: producers,
            processingJobsPerSecond: steady.rounded(),
            processingIncludingStartupJobsPerSecond: withStartup.rounded(),
            redisCommandsPerJob: (Double(totalCommands) / Double(jobs) * 100).rounded() / 100,
            redisClientCallsPerJob: (Double(clientCalls) / Double(jobs) * 100).rounded() / 100,
            latencyRate: latency.rate, latencyP50Ms: (percentile(0.5) * 100).rounded() / 100, latencyP95Ms: (percentile(0.95) * 100).rounded() / 100,
            latencyP99Ms: (percentile(0.99) * 100).rounded() / 100, delayedJobs: latency.delayedJobs, dueLatenessP50Ms: due(0.5),
            dueLatenessP99Ms: due(0.99), dueLatenessMaxMs: due(1))
        if json {
            print(try jsonText(result))
        } else {
            print(
                Table(
                    headers: ["MEASURE", "VALUE"],
                    rows: [
                        ["enqueue, one call per job", "\(Int(result.enqueuePerJobJobsPerSecond)) jobs/s"],
                        [
                            "enqueue, one call per job, on the Redis client's executor",
                            "\(Int(result.enqueuePerJobOnClientExecutorJobsPerSecond)) jobs/s",
                        ],
                        [
                            "enqueue, one call per job, \(producers) concurrent callers",
                            "\(Int(result.enqueuePerJobConcurrentJobsPerSecond)) jobs/s",
                        ],
                        ["enqueue, batches of 1000", "\(Int(result.enqueueBatchJobsPerSecond)) jobs/s"],
                        ["processing (steady), \(processes)x\(concurrency)", "\(Int(result.processingJobsPerSecond)) jobs/s"],
                        ["processing incl. start-up", "\(Int(result.processingIncludingStartupJobsPerSecond)) jobs/s"],
                        [
                            "pickup latency p50/p95/p99 @\(latency.rate)/s",
                            "\(result.latencyP50Ms) / \(result.latencyP95Ms) / \(result.latencyP99Ms) ms",
                        ],
                        [
                            "delayed jobs: start after due time p50/p99/max",
                            "\(result.dueLatenessP50Ms) / \(result.dueLatenessP99Ms) / \(result.dueLatenessMaxMs) ms",
                        ],
                        ["Redis commands per job (incl. inside scripts)", "\(result.redisCommandsPerJob)"],
                        ["Redis client calls per job (EVALSHA, BLPOP)", "\(result.redisClientCallsPerJob)"],
                    ]
                ).render())
        }
    }

    /// Deletes the queue's ready list and job hashes (between enqueue runs).
    private func clear(_ redis: RedisClient, queue: String) async throws {
        try await redis.command(["DEL", .string(QueueKeys(queue: queue).ready)])
        for key in try await scan(redis, match: QueueKeys(queue: queue).prefix + "job:*") { try await redis.command(["DEL", .string(key)]) }
    }

    private func scan(_ redis: RedisClient, match: String) async throws -> [String] {
        var cursor = "0"
        var keys: [String] = []
        repeat {
            let reply = try await redis.command(["SCAN", .string(cursor), "MATCH", .string(match), "COUNT", 1000]).array ?? []
            cursor = reply.first?.string ?? "0"
            keys += reply.last?.array?.compactMap(\.string) ?? []
        } while cursor != "0"
        return keys
    }

    private func commandStats(_ redis: RedisClient) async throws -> [String: Int] {
        let text = try await redis.command(["INFO", "commandstats"]).string ?? ""
        var out: [String: Int] = [:]
        for line in text.split(whereSeparator: \.isNewline) where line.hasPrefix("cmdstat_") {
            let name = line.dropFirst("cmdstat_".count).prefix(while: { $0 != ":" })
            if let callsPart = line.split(separator: ",").first?.split(separator: "=").last, let calls = Int(callsPart) {
                out[String(name)] = calls
            }
        }
        return out
    }

    private func eventuallyLength(_ redis: RedisClient, _ list: String, _ n: Int) async throws -> Bool {
        for _ in 0..<3000 {
            if try await redis.command(["LLEN", .string(list)]).int ?? 0 >= n { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return false
    }
}

extension Duration {
    /// Seconds as a Double (for rates).
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// `bench`: the pickup-latency and due-time runs.
struct LatencyRunOptions: ParsableArguments {
    @Option(help: "Jobs per second for the latency run.") var rate: Int = 200
    @Option(name: .customLong("latency-jobs"), help: "Jobs in the latency run.") var jobs: Int = 2000
    @Option(help: "Delayed jobs in the due-time run (enqueued at once, due 0.2 to 2.2 s later).") var delayedJobs: Int = 200
}
