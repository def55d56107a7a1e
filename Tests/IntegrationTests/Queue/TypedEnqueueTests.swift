import Foundation
import Jobs
import Logging
@testable import SwitchboardQueue
import SwitchboardRedis
import SwitchboardWebhooks
import Synchronization
import Testing

/// A webhook-style job type that declares a lock key, a timeout and a retry policy.
struct LockedInbound: JobParameters, JobLogMetadata {
    static let jobName = "test-locked-inbound"
    static var queue: String { "test-locked-never-used" }
    static var timeout: Duration { .seconds(42) }
    static var retryPolicy: RetryPolicy { RetryPolicy(maxAttempts: 7) }
    let conversation: String
    var lockKey: String? { "conversation:\(conversation)" }
    var logMetadata: Logger.Metadata { ["conversation": "\(conversation)"] }
}

/// Records every log line's message and metadata.
final class CapturedLog: Sendable {
    let lines = Mutex<[(message: String, metadata: [String: String])]>([])
    var all: [(message: String, metadata: [String: String])] { lines.withLock { $0 } }
}

struct CapturingLogHandler: LogHandler {
    let log: CapturedLog
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        log.lines.withLock { $0.append(("\(event.message)", merged.mapValues { "\($0)" })) }
    }
}

/// Middleware that records what it saw around each run.
struct RecordingMiddleware: JobMiddleware {
    let events: Mutex<[String]>.Box
    func handle(_ parameters: any JobParameters, context: JobContext, next: @Sendable (JobContext) async throws -> Void) async throws {
        events.append("before \(context.name) #\(context.attempt)")
        do {
            try await next(context)
            events.append("after \(context.name) #\(context.attempt)")
        } catch {
            events.append("error \(context.name) #\(context.attempt)")
            throw error
        }
    }
}

extension Mutex where Value == [String] {
    /// A shareable list of strings.
    final class Box: Sendable {
        let items = Mutex<[String]>([])
        func append(_ s: String) { items.withLock { $0.append(s) } }
        var all: [String] { items.withLock { $0 } }
    }
}

/// One resolution of a job type's declared options on every enqueue path; middleware around every handler (#17).
@Suite("Typed enqueue and middleware", .timeLimit(.minutes(3)))
struct TypedEnqueueTests {
    @Test func aWebhookJobTypesDeclaredLockTimeoutAndRetryReachTheStoredJob() async throws {
        let redis = try makeRedis()
        let queue = uniqueQueueName("typed-intake")
        let batcher = EnqueueBatcher(queue: JobQueue(redis: redis))
        let intake = WebhookIntake(batcher: batcher, timeout: .seconds(30), queueName: queue)  // the suite's start-up load
        let parameters = LockedInbound(conversation: "c-\(queue)")
        let job = ProviderEvents.job(parameters, payload: Array(try JSONEncoder().encode(parameters)), uniqueKey: "event-\(queue)")
        let running = Task { try await batcher.run() }
        defer { running.cancel() }
        let id = try #require(try await intake.accept([job]).first)
        let stored = try #require(try await QueueInspector(redis: redis).job(id, queue: queue))
        #expect(stored.lockKey == "conversation:c-\(queue)")
        #expect(stored.timeout == .seconds(42))
        #expect(stored.maxAttempts == 7)
        #expect(stored.uniqueKey == "event-\(queue)")
        try await redis.shutdown()
    }

    @Test func aCancelledEnqueueBatcherStopsInsteadOfSpinning() async throws {
        let redis = try makeRedis()
        let batcher = EnqueueBatcher(queue: JobQueue(redis: redis))
        let running = Task { try await batcher.run() }
        try await Task.sleep(for: .milliseconds(200))
        running.cancel()
        // run() returns only when its expire loop has ended; before the fix that loop spun on the cancelled sleep.
        let ended = Task {
            try? await running.value
            return true
        }
        try await expectEventually(timeout: .seconds(10)) { ended.isCancelled == false && running.isCancelled }
        let finished = await withTaskGroup(of: Bool.self) { group in
            group.addTask { await ended.value }
            group.addTask {
                try? await Task.sleep(for: .seconds(10))
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        #expect(finished, "the cancelled batcher did not stop within 10 s")
        try await redis.shutdown()
    }

    @Test func theCLIEnqueueResolvesAPipelineJobsQueueAndTimeoutByName() async throws {
        let redis = try makeRedis()
        let args = #"{"tenant":"\#(UUID())","channel":"\#(UUID())","provider":"twilio","event":{},"receivedAtMs":1}"#
        let result = try await runSwitchboard(["enqueue", "message-status", "--args", args, "--in", "1h"])
        #expect(result.status == 0, "\(result.stderr)")
        let id = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let stored = try #require(try await QueueInspector(redis: redis).job(id, queue: MessageStatusUpdate.queue), "the type's queue")
        #expect(stored.timeout == MessageStatusUpdate.timeout)
        #expect(stored.maxAttempts == MessageStatusUpdate.retryPolicy.maxAttempts)
        let k = QueueKeys(queue: MessageStatusUpdate.queue)
        _ = try await redis.pipeline([["ZREM", .string(k.scheduled), .string(id)], ["DEL", .string(k.job(id))]])  // not for a worker

        let bad = try await runSwitchboard(["enqueue", "message-status", "--args", #"{"tenant": 5}"#])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("nothing was enqueued") && bad.stderr.contains("message-status"), "\(bad.stderr)")
        try await redis.shutdown()
    }

    @Test func middlewareWrapsEveryRunAndJobMetadataIsOnEveryLogLine() async throws {
        let redis = try makeRedis()
        let queue = uniqueQueueName("middleware")
        let events = Mutex<[String]>.Box()
        let log = CapturedLog()
        let registry = JobRegistry()
        registry.add(RecordingMiddleware(events: events))
        registry.register(LockedInbound.self) { p, context in
            context.logger.info("working")
            if context.attempt == 1 { throw DiagnosticJobs.PlannedFailure(attempt: 1) }
        }
        var options = fastWorkerOptions(queue: queue)
        options.queues = [queue]
        let worker = QueueWorker(
            redis: redis, registry: registry, options: options, logger: Logger(label: "capture") { _ in CapturingLogHandler(log: log) })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await worker.run() }
            try await JobQueue(redis: redis).enqueue(
                LockedInbound(conversation: "conv-42"),
                options: .init(queue: queue, retryPolicy: RetryPolicy(maxAttempts: 3, base: .milliseconds(10), cap: .milliseconds(20))))
            try await expectEventually { events.all.contains("after test-locked-inbound #2") }
            worker.stop()
            try await group.waitForAll()
        }
        #expect(
            events.all == [
                "before test-locked-inbound #1", "error test-locked-inbound #1", "before test-locked-inbound #2", "after test-locked-inbound #2",
            ])
        let jobLines = log.all.filter { $0.metadata["job.name"] == "test-locked-inbound" }
        #expect(jobLines.filter { $0.message == "working" }.count == 2)
        #expect(
            jobLines.filter { $0.message == "working" }.allSatisfy { $0.metadata["conversation"] == "conv-42" },
            "the job's own metadata is on its log lines: \(jobLines.map(\.metadata))")
        try await redis.shutdown()
    }
}
