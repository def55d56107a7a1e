import Foundation
import Jobs
import Logging
import SwitchboardPostgres
@testable import SwitchboardQueue
import SwitchboardRedis
import SwitchboardStore
import Synchronization
import Testing

/// A test-only stage written as docs/architecture.md's walkthrough says: a note on a conversation, written under
/// the conversation's lock (fenced), whose successor is debounced per conversation and collects the burst.
struct ExampleNote: JobParameters, JobLogMetadata {
    static let jobName = "test-example-note"
    static var timeout: Duration { .seconds(30) }
    let tenant: UUID
    let customer: UUID
    let conversation: UUID
    let text: String
    let digestQueue: String
    var lockKey: String? { "conversation:\(conversation)" }
    var logMetadata: Logger.Metadata { ["tenant": "\(tenant)", "conversation": "\(conversation)"] }
}

/// The successor of a burst of notes: each carries the note it follows.
struct ExampleDigest: JobParameters, JobLogMetadata {
    static let jobName = "test-example-digest"
    let note: ExampleNote
    var lockKey: String? { note.lockKey }
    var logMetadata: Logger.Metadata { note.logMetadata }
}

struct ExampleNoteStage: PipelineStage {
    let db: PostgresClient
    init(_ pipeline: Pipeline) { db = pipeline.db }

    func run(_ p: ExampleNote, context: JobContext) async throws {
        let text = p.text
        try await db.withTenant(p.tenant, fencedBy: context) { conn in
            try conn.execute("UPDATE customers SET display_name = $2 WHERE id = $1", [.uuid(p.customer), .text(text)])
        }
        context.logger.info("note written")
        try context.enqueueOnSuccess(
            ExampleDigest(note: p),
            options: .init(
                queue: p.digestQueue,
                debounce: DebounceOptions(key: "conversation:\(p.conversation)", window: .seconds(4), maxWait: .seconds(30), collect: true)))
    }
}

struct ExampleDigestStage: PipelineStage {
    let db: PostgresClient
    init(_ pipeline: Pipeline) { db = pipeline.db }

    func run(_ p: ExampleDigest, context: JobContext) async throws {
        let burst = try context.collected(ExampleDigest.self).map(\.note.text).joined(separator: " | ")
        let customer = p.note.customer
        try await db.withTenant(p.note.tenant, fencedBy: context) { conn in
            try conn.execute("UPDATE customers SET display_name = $2 WHERE id = $1", [.uuid(customer), .text("digest: " + burst)])
        }
        context.logger.info("digest written")
    }
}

/// Counts runs by job name.
final class CountingMiddleware: JobMiddleware {
    let counts = Mutex<[String: Int]>([:])
    func handle(_ parameters: any JobParameters, context: JobContext, next: @Sendable (JobContext) async throws -> Void) async throws {
        try await next(context)
        counts.withLock { $0[context.name, default: 0] += 1 }
    }
}

@Suite("An example pipeline stage", .timeLimit(.minutes(2)))
struct PipelineStageExampleTests {
    @Test func aStageUsesTheWiringMiddlewareADebouncedSuccessorAndAFencedWrite() async throws {
        try await SharedSchema.shared.ensureMigrated()
        let db = PostgresClient(url: try TestEnvironment.databaseURL(), maxConnections: 4)
        let redis = try makeRedis()
        let world = try await RowLevelSecurityTests.seed(db, name: "example stage \(UUID())")
        let (queue, digests) = (uniqueQueueName("example"), uniqueQueueName("example-digest"))
        let counting = CountingMiddleware()
        let log = CapturedLog()
        let registry = JobRegistry()
        registry.add(counting)
        let pipeline = Pipeline(db: db, queue: JobQueue(redis: redis))
        pipeline.register(ExampleNoteStage.self, in: registry)
        pipeline.register(ExampleDigestStage.self, in: registry)
        var options = fastWorkerOptions(queue: queue, concurrency: 4)
        options.queues = [queue, digests]
        let worker = QueueWorker(
            redis: redis, registry: registry, options: options, logger: Logger(label: "example") { _ in CapturingLogHandler(log: log) })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await worker.run() }
            for text in ["hola", "necesito tomates", "5 kg roma"] {
                try await pipeline.queue.enqueue(
                    ExampleNote(tenant: world.tenant, customer: world.customer, conversation: world.conversation, text: text, digestQueue: digests),
                    options: .init(queue: queue))
            }
            try await expectEventually(timeout: .seconds(20)) { counting.counts.withLock { $0[ExampleDigest.jobName] } == 1 }
            try await Task.sleep(for: .milliseconds(5000))  // a second digest would come within a window
            worker.stop()
            try await group.waitForAll()
        }
        // The middleware saw every run; three notes became one digest that collected all three.
        #expect(counting.counts.withLock { $0 } == [ExampleNote.jobName: 3, ExampleDigest.jobName: 1])
        let name: String = try await db.withTenant(world.tenant) { conn in
            try conn.query("SELECT display_name FROM customers WHERE id = $1", [.uuid(world.customer)])[0].decode("display_name")
        }
        // In the order the notes completed (they queue for the conversation's lock), each exactly once.
        #expect(name.hasPrefix("digest: "))
        #expect(name.dropFirst("digest: ".count).split(separator: " | ").sorted() == ["5 kg roma", "hola", "necesito tomates"])
        // The fenced writes recorded the conversation lock's fence.
        let fence: Int64 = try await db.withTenant(world.tenant) { conn in
            try conn.query("SELECT fence FROM fences WHERE key = $1", [.text("conversation:\(world.conversation)")])[0].decode("fence")
        }
        #expect(fence >= 4, "four runs under the lock, each with a higher fence")
        // Every line the stages logged carries the conversation.
        let stageLines = log.all.filter { $0.message == "note written" || $0.message == "digest written" }
        #expect(stageLines.count == 4)
        #expect(stageLines.allSatisfy { $0.metadata["conversation"] == "\(world.conversation)" })
        try await redis.shutdown()
        try await db.shutdown()
    }
}
