import Foundation
@testable import SwitchboardQueue
import SwitchboardRedis
import Synchronization
import Testing

/// A job that asks for a successor, then fails its first attempt: only the successful attempt's successor may exist.
struct FlakyParent: JobParameters {
    static let jobName = "test-flaky-parent"
    let set: String
}

/// Chains and fan-out: successors stored atomically with their parent's completion (#4 item 7).
@Suite("Chains and fan-out", .serialized, .timeLimit(.minutes(4)))
struct ChainTests {
    /// Members of the set, the run counter, and the child → parent hash the `chain` job writes.
    func chainRecord(_ set: String, redis: RedisClient) async throws -> (ids: Set<String>, runs: Int64, parent: [String: String]) {
        let ids = Set(try await redis.command(["SMEMBERS", .string(set)]).array?.compactMap(\.string) ?? [])
        let runs = try await redis.command(["GET", .string(set + ":count")]).string.flatMap { Int64($0) } ?? 0
        let flat = try await redis.command(["HGETALL", .string(set + ":parent")]).array?.compactMap(\.string) ?? []
        var parent: [String: String] = [:]
        for i in stride(from: 0, to: flat.count - 1, by: 2) { parent[flat[i]] = flat[i + 1] }
        return (ids, runs, parent)
    }

    @Test func aFanOutTreeAcrossTwoQueuesRunsEachSuccessorOnceWithItsParentsResult() async throws {
        let redis = try makeRedis(connections: 10)
        let (a, b) = (uniqueQueueName("chain-a"), uniqueQueueName("chain-b"))
        let set = "chain:\(a)"
        var options = fastWorkerOptions(queue: a, concurrency: 8)
        options.queues = [a, b]
        try await withWorker(redis: redis, options: options) { _ in
            // 3 levels, 2 children each: the root on a, every successor on b (the first hop crosses slots through
            // a's outbox, the rest stay in b and are created by complete.lua itself). 10 roots → 70 jobs.
            try await JobQueue(redis: redis).enqueue(
                batch: (0..<10).map { _ in DiagnosticJobs.Chain(set: set, steps: 3, fanout: 2, next_queue: b) }, options: .init(queue: a))
            try await expectEventually(timeout: .seconds(30)) { try await chainRecord(set, redis: redis).ids.count == 70 }
        }
        let record = try await chainRecord(set, redis: redis)
        #expect(record.ids.count == 70)
        #expect(record.runs == 70, "a job ran twice or not at all")
        #expect(record.parent.count == 60, "every successor knows its parent")
        #expect(record.parent.values.allSatisfy { record.ids.contains($0) })
        let children = Dictionary(grouping: record.parent.keys, by: { record.parent[$0]! })
        #expect(children.count == 30 && children.values.allSatisfy { $0.count == 2 }, "each non-leaf has exactly two successors")
        for q in [a, b] {
            let k = QueueKeys(queue: q)
            #expect(try await redis.command(["HLEN", .string(k.outbox)]).int == 0)
            #expect(try await redis.command(["ZCARD", .string(k.outboxDue)]).int == 0)
        }
        let processed = (try await redis.command(["GET", .string(QueueKeys(queue: b).processedToday)]).string).flatMap { Int($0) }
        #expect(processed == 60)
        try await redis.shutdown()
    }

    @Test func onlyTheSuccessfulAttemptsSuccessorsExist() async throws {
        let redis = try makeRedis()
        let queue = uniqueQueueName("chain-flaky")
        let set = "chain:\(queue)"
        var options = fastWorkerOptions(queue: queue)
        options.queues = [queue]
        try await withWorker(
            redis: redis, options: options,
            register: { registry in
                registry.register(FlakyParent.self) { p, context in
                    try context.enqueueOnSuccess(DiagnosticJobs.Chain(set: p.set, steps: 1, from: context.id), options: .init(queue: queue))
                    if context.attempt < 3 { throw DiagnosticJobs.PlannedFailure(attempt: context.attempt) }
                }
            }
        ) { _ in
            try await JobQueue(redis: redis).enqueue(
                FlakyParent(set: set),
                options: .init(queue: queue, retryPolicy: RetryPolicy(maxAttempts: 5, base: .milliseconds(10), cap: .milliseconds(20))))
            try await expectEventually(timeout: .seconds(20)) { try await chainRecord(set, redis: redis).runs >= 1 }
            try await Task.sleep(for: .milliseconds(500))
        }
        let record = try await chainRecord(set, redis: redis)
        #expect(record.runs == 1, "failed attempts left successors behind")
        #expect(record.ids.count == 1)
    }

    @Test func aStaleCompletionStoresNoSuccessor() async throws {
        let redis = try makeRedis()
        let (queue, other) = (uniqueQueueName("chain-stale"), uniqueQueueName("chain-stale-b"))
        try await JobQueue(redis: redis).enqueue(DiagnosticJobs.Noop(), options: .init(queue: queue))
        let first = try #require(try await takeDirectly(redis, queue: queue, worker: "w1", lease: .milliseconds(50)).first)
        try await Task.sleep(for: .milliseconds(100))
        let second = try #require(try await takeDirectly(redis, queue: queue, worker: "w2", lease: .seconds(30)).first)
        #expect(second.id == first.id && second.token != first.token)
        func spec(_ id: String, _ q: String) -> String {
            #"{"id":"\#(id)","queue":"\#(q)","name":"noop","payload":"{}","delay_ms":0,"max_attempts":3,"options":"{}","parent":"\#(first.id)"}"#
        }
        let successors = Array("[\(spec("s-here", queue)),\(spec("s-there", other))]".utf8)
        #expect(try await completeDirectly(redis, first, worker: "w1", successors: successors) == 0, "the first holder's completion must be refused")
        let k = QueueKeys(queue: queue)
        #expect(try await redis.command(["EXISTS", .string(k.job("s-here"))]).int == 0)
        #expect(try await redis.command(["HLEN", .string(k.outbox)]).int == 0)
        // The current holder's completion stores both: one as a job here, one in the outbox for the other queue.
        #expect(try await completeDirectly(redis, second, worker: "w2", successors: successors) == 1)
        let inspector = QueueInspector(redis: redis)
        #expect(try await inspector.job("s-here", queue: queue)?.parent == first.id)
        #expect(try await redis.command(["HEXISTS", .string(k.outbox), "s-there"]).int == 1)
        #expect(try await inspector.stats(queue: queue).outbox == 1, "ops see the successor waiting to be relayed")
        try await redis.shutdown()
    }

    /// A worker process SIGKILLs itself once at `fault` (right after a completion stored successors for another
    /// queue, or right after relaying them); every parent must still get exactly one successor.
    func crashMidChain(_ fault: String) async throws {
        let redis = try makeRedis()
        let (a, b) = (uniqueQueueName("chain-kill-a"), uniqueQueueName("chain-kill-b"))
        let set = "chain:\(a)"
        let (worker, log, marker) = try startFaultyWorker(queues: [a, b], fault: fault, lease: "3s")
        defer { try? FileManager.default.removeItem(atPath: marker) }
        let parents = 20
        let clock = ContinuousClock()
        let started = clock.now
        try await JobQueue(redis: redis).enqueue(
            batch: (0..<parents).map { _ in DiagnosticJobs.Chain(set: set, steps: 2, next_queue: b, ms: 20) }, options: .init(queue: a))
        try await expectEventually(timeout: .seconds(60)) {
            let r = try await chainRecord(set, redis: redis)
            return r.parent.count == parents && r.ids.count == 2 * parents
        }
        let took = clock.now - started
        try await Task.sleep(for: .seconds(7))  // a duplicate relay would come from a sweep: give one time to happen
        let record = try await chainRecord(set, redis: redis)
        let childrenPerParent = Dictionary(grouping: record.parent.keys, by: { record.parent[$0]! }).mapValues(\.count)
        print(
            "chain with SIGKILL \(fault): \(parents) parents, \(record.parent.count) successors, \(record.runs) runs in all (\(record.runs - Int64(2 * parents)) re-runs of jobs in flight at the kill), all done \(took) after enqueue"
        )
        #expect(FileManager.default.fileExists(atPath: marker), "the fault never fired")
        #expect(
            childrenPerParent.count == parents && childrenPerParent.values.allSatisfy { $0 == 1 },
            "a successor was lost or doubled: \(childrenPerParent.values.sorted())")
        #expect(try await redis.command(["HLEN", .string(QueueKeys(queue: a).outbox)]).int == 0)
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(output.contains("relaying successors left in an outbox"), "the restarted child's sweep relayed the crashed one's successor")
        kill(worker, SIGTERM)
        #expect(await waitForChild(worker) == 0, "worker log: \((try? String(contentsOfFile: log, encoding: .utf8))?.suffix(2000) ?? "")")
        try await redis.shutdown()
    }

    @Test(.exclusive) func aSIGKILLBetweenCompletionAndRelayNeitherLosesNorDoublesTheSuccessor() async throws {
        try await crashMidChain("after-complete")
    }

    @Test(.exclusive) func aSIGKILLBetweenRelayAndAcknowledgementDoesNotDoubleTheSuccessor() async throws {
        try await crashMidChain("after-relay")
    }
}
