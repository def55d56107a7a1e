import Foundation
import Logging
@testable import SwitchboardQueue
import SwitchboardRedis
import Synchronization
import Testing

/// A parent whose successor carries a unique key held for a minute after it finishes.
struct UniqueSuccessorParent: JobParameters {
    static let jobName = "test-unique-successor-parent"
    let set: String
    let key: String
}

/// Successors with a debounce key (collecting) or a unique key, created atomically with their parent's completion.
@Suite("Debounced and unique successors", .serialized, .timeLimit(.minutes(4)))
struct SuccessorKeyTests {
    /// The parents a collecting successor saw, in order, and how many each collecting successor got.
    func collected(_ set: String, redis: RedisClient) async throws -> (from: [String], perJob: [Int]) {
        let from = try await redis.command(["LRANGE", .string(set + ":collected-from"), 0, -1]).array?.compactMap(\.string) ?? []
        let flat = try await redis.command(["HVALS", .string(set + ":collected")]).array?.compactMap { $0.string.flatMap { Int($0) } } ?? []
        return (from, flat)
    }

    func parents(_ set: String, redis: RedisClient) async throws -> Set<String> {
        let flat = try await redis.command(["HGETALL", .string(set + ":parent")]).array?.compactMap(\.string) ?? []
        let ids = Set(try await redis.command(["SMEMBERS", .string(set)]).array?.compactMap(\.string) ?? [])
        let children = Set(stride(from: 0, to: flat.count - 1, by: 2).map { flat[$0] })
        return ids.subtracting(children)
    }

    @Test(arguments: [false, true])
    func theDebouncedSuccessorsOfABurstOfParentsBecomeOneJobCollectingEachParentOnce(acrossQueues: Bool) async throws {
        let redis = try makeRedis(connections: 10)
        let (a, b) = (uniqueQueueName("succ-deb-a"), uniqueQueueName("succ-deb-b"))
        let set = "chain:\(a)"
        var options = fastWorkerOptions(queue: a, concurrency: 8)
        options.queues = [a, b]
        try await withWorker(redis: redis, options: options) { _ in
            try await JobQueue(redis: redis).enqueue(
                batch: (0..<6).map { _ in DiagnosticJobs.Chain(set: set, steps: 2, next_queue: acrossQueues ? b : a, debounce: "conv-\(a)") },
                options: .init(queue: a))
            try await expectEventually(timeout: .seconds(20)) { try await collected(set, redis: redis).from.count >= 6 }
            try await Task.sleep(for: .milliseconds(1500))  // a second successor would come within a window
        }
        let roots = try await parents(set, redis: redis)
        let seen = try await collected(set, redis: redis)
        #expect(roots.count == 6)
        #expect(seen.perJob == [6], "one successor collecting all six parents, not \(seen.perJob)")
        #expect(seen.from.sorted() == roots.sorted(), "each parent collected exactly once")
        try await redis.shutdown()
    }

    @Test func aUniqueSuccessorIsNotCreatedWhileAnotherJobHoldsItsKey() async throws {
        let redis = try makeRedis()
        let queue = uniqueQueueName("succ-unique")
        let set = "chain:\(queue)"
        try await withWorker(
            redis: redis, options: fastWorkerOptions(queue: queue),
            register: { registry in
                registry.register(UniqueSuccessorParent.self) { p, context in
                    try context.enqueueOnSuccess(
                        DiagnosticJobs.Chain(set: p.set, steps: 1, from: context.id),
                        options: .init(queue: context.queue, unique: UniqueOptions(key: p.key, mode: .idempotent, ttl: .seconds(60))))
                }
            }
        ) { _ in
            let parent = UniqueSuccessorParent(set: set, key: "order-\(queue)")
            try await JobQueue(redis: redis).enqueue(batch: [parent, parent, parent], options: .init(queue: queue))
            try await expectEventually { try await QueueInspector(redis: redis).stats(queue: queue).processedToday >= 4 }
            try await Task.sleep(for: .milliseconds(500))
        }
        let runs = try await redis.command(["GET", .string(set + ":count")]).string.flatMap { Int($0) }
        #expect(runs == 1, "three parents, one unique successor")
        try await redis.shutdown()
    }

    @Test func aSuccessorNeedsAValidDebounceAndCannotAlsoBeUnique() async throws {
        let context = JobContext(
            id: "j", name: "n", queue: "q", attempt: 1, maxAttempts: 1, fencingToken: 1,
            lazyLogger: JobLogger(base: .init(label: "t"), id: "j", name: "n", attempt: 1, queue: "q"))
        #expect(throws: QueueError.self) {
            try context.enqueueOnSuccess(
                DiagnosticJobs.Noop(),
                options: .init(unique: UniqueOptions(key: "u"), debounce: DebounceOptions(key: "k", window: .seconds(1), maxWait: .seconds(2))))
        }
        #expect(throws: QueueError.self) {
            try context.enqueueOnSuccess(
                DiagnosticJobs.Noop(), options: .init(debounce: DebounceOptions(key: "k", window: .seconds(2), maxWait: .seconds(1))))
        }
    }

    /// A worker process SIGKILLs itself once after a parent's handler finished but before its completion (with its
    /// debounced successor) reached Redis: the parent runs again, and its successor is still collected exactly once.
    @Test(.exclusive) func aSuccessorStoredOnTheReRunAfterACrashBeforeCompletionIsCreatedOnce() async throws {
        let redis = try makeRedis()
        let (a, b) = (uniqueQueueName("succ-kill-a"), uniqueQueueName("succ-kill-b"))
        let set = "chain:\(a)"
        let (worker, log, marker) = try startFaultyWorker(queues: [a, b], fault: "before-complete", lease: "2s")
        defer { try? FileManager.default.removeItem(atPath: marker) }
        let parentCount = 10
        try await JobQueue(redis: redis).enqueue(
            batch: (0..<parentCount).map { _ in DiagnosticJobs.Chain(set: set, steps: 2, next_queue: b, ms: 20, debounce: "conv-\(a)") },
            options: .init(queue: a))
        try await expectEventually(timeout: .seconds(60)) { try await collected(set, redis: redis).from.count >= parentCount }
        try await Task.sleep(for: .seconds(3))  // a doubled successor would arrive within a lease and a window
        let roots = try await parents(set, redis: redis)
        let seen = try await collected(set, redis: redis)
        let runs = try await redis.command(["GET", .string(set + ":count")]).string.flatMap { Int($0) } ?? 0
        print("successor after a crash before completion: \(parentCount) parents, \(runs) runs in all, collecting successors \(seen.perJob)")
        #expect(FileManager.default.fileExists(atPath: marker), "the fault never fired")
        #expect(roots.count == parentCount)
        #expect(seen.from.sorted() == roots.sorted(), "each parent's successor collected exactly once: \(seen.from.count) for \(roots.count)")
        #expect(runs > parentCount + seen.perJob.count, "the crashed parent ran again")
        kill(worker, SIGTERM)
        #expect(await waitForChild(worker) == 0, "worker log: \((try? String(contentsOfFile: log, encoding: .utf8))?.suffix(2000) ?? "")")
        try await redis.shutdown()
    }
}
