import Foundation
import SwitchboardProcess
import Logging
@testable import SwitchboardQueue
import SwitchboardRedis
import Synchronization
import Testing

/// A queue name no other test uses.
func uniqueQueueName(_ label: String = "t") -> String { "\(label)-\(UUID().uuidString.prefix(8).lowercased())" }

func makeRedis(connections: Int = 6) throws -> RedisClient {
    RedisClient(configuration: try RedisConfiguration(url: try TestEnvironment.redisURL()), maxConnections: connections)
}

/// Options for fast tests: short leases and blocks.
func fastWorkerOptions(queue: String, concurrency: Int = 4) -> WorkerOptions {
    var o = WorkerOptions()
    o.queues = [queue]
    o.concurrency = concurrency
    o.leaseDuration = .seconds(3)
    o.heartbeatInterval = .milliseconds(500)
    o.maxBlock = .milliseconds(500)
    o.gracePeriod = .seconds(2)
    return o
}

/// Starts the built `switchboard worker` with `arguments` (clean signal mask); its output goes to a log file to quote
/// in failures.
func startWorkerProcess(_ arguments: [String], environment: [String: String] = [:]) throws -> (pid: pid_t, log: String) {
    let log = FileManager.default.temporaryDirectory.appendingPathComponent("worker-\(UUID().uuidString.prefix(8)).log").path
    return (
        try spawnWithCleanSignals([try TestEnvironment.switchboardBinary(), "worker"] + arguments, outputPath: log, environment: environment), log
    )
}

/// Starts a one-child `switchboard worker` on `queues` that SIGKILLs itself once at the test-fault point `fault`
/// (`SWITCHBOARD_TEST_FAULT`); the marker file records that it fired. Returns its pid, log path and marker path.
func startFaultyWorker(queues: [String], fault: String, lease: String) throws -> (pid: pid_t, log: String, marker: String) {
    let tag = queues[0]
    let marker = FileManager.default.temporaryDirectory.appendingPathComponent("fault-\(tag)").path
    let log = FileManager.default.temporaryDirectory.appendingPathComponent("worker-\(tag).log").path
    let pid = try spawnWithCleanSignals(
        [
            try TestEnvironment.switchboardBinary(), "worker", "--queues", queues.joined(separator: ","), "--processes", "1", "--concurrency", "4",
            "--lease", lease,
        ],
        outputPath: log, environment: ["SWITCHBOARD_TEST_FAULT": "\(fault):\(marker)"])
    return (pid, log, marker)
}

/// Runs a worker while `body` runs, then stops it and waits for it to finish draining.
func withWorker(
    redis: RedisClient, options: WorkerOptions, register: (JobRegistry) -> Void = { _ in },
    _ body: (QueueWorker) async throws -> Void
) async throws {
    let registry = JobRegistry()
    DiagnosticJobs.register(in: registry, redis: redis)
    register(registry)
    let worker = QueueWorker(redis: redis, registry: registry, options: options, logger: Logger(label: "test-worker"))
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await worker.run() }
        do {
            try await body(worker)
        } catch {
            worker.stop()
            try await group.waitForAll()
            throw error
        }
        worker.stop()
        try await group.waitForAll()
    }
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

/// Records when and how often a test job ran.
final class RunLog: Sendable {
    private let entries = Mutex<[(id: String, attempt: Int, token: Int64, at: Date)]>([])
    func record(_ context: JobContext) { entries.withLock { $0.append((context.id, context.attempt, context.fencingToken, Date())) } }
    var count: Int { entries.withLock { $0.count } }
    var all: [(id: String, attempt: Int, token: Int64, at: Date)] { entries.withLock { $0 } }
}

/// A job for tests whose handler the test supplies.
struct Marker: JobParameters {
    static let jobName = "test-marker"
    let label: String
}

/// Calls the take script directly, as a worker that will never heartbeat (to play a crashed or stale worker).
/// `waiting`: jobs already in the worker's inbox come first, as for a worker waiting for a handoff.
func takeDirectly(
    _ redis: RedisClient, queue: String, worker: String, lease: Duration, count: Int = 1, waiting: Bool = false
) async throws -> [LeasedJob] {
    let k = QueueKeys(queue: queue)
    let reply = try await redis.evaluate(
        QueueScripts.take,
        keys: [
            .string(k.ready), .string(k.scheduled), .string(k.retry), .string(k.active), .string(k.dead), .string(k.paused), .string(k.doorbell),
            .string(k.waiters), .string(k.inbox(worker)),
        ],
        arguments: [
            .string(k.prefix), .int(count), .int(lease.milliseconds), .string(worker), .string(utcDay()), 10_000, 86_400_000, waiting ? "1" : "0",
        ])
    return try LeasedJob.parse(reply.array ?? [], queue: queue).jobs
}

/// Calls the complete script directly as `worker`; `successors` is '' or a JSON array of successor specs.
func completeDirectly(_ redis: RedisClient, _ job: LeasedJob, worker: String, successors: [UInt8] = []) async throws -> Int64 {
    let k = QueueKeys(queue: job.queue)
    let reply = try await redis.evaluate(
        QueueScripts.complete, keys: [.string(k.active), .string(k.done)],
        arguments: [
            .string(k.prefix), .string(utcDay()), .string(job.queue), 0, 0, 5_000, .string(worker),
            .string(job.id), .string(job.token), .bytes(successors), .string(job.uniqueMode),
        ])
    return reply.array?.first?.int ?? -1
}

/// Records a test issue at the caller's line when `condition` does not come to hold within `timeout`.
func expectEventually(
    timeout: Duration = .seconds(10), sourceLocation: SourceLocation = #_sourceLocation, _ condition: () async throws -> Bool
) async throws {
    if !(try await eventually(timeout: timeout, condition)) {
        Issue.record("condition did not hold within \(timeout)", sourceLocation: sourceLocation)
    }
}
