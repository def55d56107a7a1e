import Foundation
@testable import SwitchboardQueue
import SwitchboardRedis
import Synchronization
import Testing

/// Fan-in: a job that runs once when every member of a set has succeeded (#17 item 4b).
@Suite("Fan-in joins", .serialized, .timeLimit(.minutes(4)))
struct JoinTests {
    func joinRecord(_ set: String, redis: RedisClient) async throws -> (joins: [String], joined: [String], parents: [String: String]) {
        let joins = try await redis.command(["SMEMBERS", .string(set + ":joins")]).array?.compactMap(\.string) ?? []
        let joined = try await redis.command(["LRANGE", .string(set + ":joined"), 0, -1]).array?.compactMap(\.string) ?? []
        let flat = try await redis.command(["HGETALL", .string(set + ":parent")]).array?.compactMap(\.string) ?? []
        var parents: [String: String] = [:]
        for i in stride(from: 0, to: flat.count - 1, by: 2) { parents[flat[i]] = flat[i + 1] }
        return (joins, joined, parents)
    }

    @Test func aJoinAcrossTwoQueuesRunsOnceWithEveryMembersResultInOrder() async throws {
        let redis = try makeRedis(connections: 10)
        let (a, b) = (uniqueQueueName("join-a"), uniqueQueueName("join-b"))
        let set = "chain:\(a)"
        var options = fastWorkerOptions(queue: a, concurrency: 8)
        options.queues = [a, b]
        try await withWorker(redis: redis, options: options) { _ in
            // 4 roots on a, each fanning out 3 members to b, joined back on a.
            try await JobQueue(redis: redis).enqueue(
                batch: (0..<4).map { _ in DiagnosticJobs.Chain(set: set, steps: 2, fanout: 3, next_queue: b, join: true) }, options: .init(queue: a))
            try await expectEventually(timeout: .seconds(20)) { try await joinRecord(set, redis: redis).joins.count == 4 }
            try await Task.sleep(for: .milliseconds(500))
        }
        let record = try await joinRecord(set, redis: redis)
        #expect(record.joins.count == 4, "each join ran once")
        #expect(record.joined.count == 12, "each join read its three members' results")
        // Members are the children (on b) of a root; each join's results are exactly its own root's members.
        let members = Set(record.joined)
        #expect(members.count == 12 && members.allSatisfy { record.parents[$0] != nil })
        for join in record.joins {
            let root = try #require(record.parents[join])
            let mine = record.parents.filter { $0.value == root && $0.key != join }.map(\.key)
            #expect(mine.count == 3)
            #expect(Set(mine).isSubset(of: members))
        }
        try await redis.shutdown()
    }

    @Test func aDeadMemberEndsTheJoinAsFailedAndTheJoiningJobNeverRuns() async throws {
        let redis = try makeRedis()
        let queue = uniqueQueueName("join-fail")
        let set = "chain:\(queue)"
        let joinID = Mutex<String?>(nil)
        try await withWorker(
            redis: redis, options: fastWorkerOptions(queue: queue),
            register: { registry in
                registry.register(FlakyParent.self) { p, context in
                    let good = try JobQueue.NewJob(DiagnosticJobs.Chain(set: p.set, steps: 1), options: .init(queue: context.queue))
                    let bad = try JobQueue.NewJob(DiagnosticJobs.Fail(times: 99), options: .init(queue: context.queue, retryPolicy: .never))
                    let join = try JobQueue.NewJob(DiagnosticJobs.Chain(set: p.set, steps: 1, joined: true), options: .init(queue: context.queue))
                    let id = try context.enqueueOnSuccess(members: [good, bad], thenJoin: join)
                    joinID.withLock { $0 = id }
                }
            }
        ) { _ in
            try await JobQueue(redis: redis).enqueue(FlakyParent(set: set), options: .init(queue: queue))
            try await expectEventually(timeout: .seconds(15)) {
                guard let id = joinID.withLock({ $0 }) else { return false }
                return try await QueueInspector(redis: redis).join(id, queue: queue)?.state == "failed"
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        let id = try #require(joinID.withLock { $0 })
        let join = try #require(try await QueueInspector(redis: redis).join(id, queue: queue))
        #expect(join.state == "failed" && join.members == 2 && join.joinJob == nil)
        #expect(join.failedMember != nil && join.reason?.contains("planned failure") == true, "\(join)")
        #expect(try await joinRecord(set, redis: redis).joins.isEmpty, "the joining job never ran")
        try await redis.shutdown()
    }

    /// A worker SIGKILLs itself once at `fault` (after a member's completion stored its arrival for the other queue's
    /// join, or after relaying it): every join still runs exactly once with all its members.
    @Test(.exclusive, arguments: ["after-complete", "after-relay"])
    func aSIGKILLAroundAMembersArrivalNeitherLosesNorDoublesTheJoin(fault: String) async throws {
        let redis = try makeRedis()
        let (a, b) = (uniqueQueueName("join-kill-a"), uniqueQueueName("join-kill-b"))
        let set = "chain:\(a)"
        let (worker, log, marker) = try startFaultyWorker(queues: [a, b], fault: fault, lease: "3s")
        defer { try? FileManager.default.removeItem(atPath: marker) }
        let roots = 10
        // Roots on a fan out two members each to b; the joins run on a: members and arrivals cross slots.
        try await JobQueue(redis: redis).enqueue(
            batch: (0..<roots).map { _ in DiagnosticJobs.Chain(set: set, steps: 2, fanout: 2, next_queue: b, ms: 20, join: true) },
            options: .init(queue: a))
        try await expectEventually(timeout: .seconds(60)) { try await joinRecord(set, redis: redis).joins.count >= roots }
        try await Task.sleep(for: .seconds(7))  // a doubled arrival or join would come from a sweep
        let record = try await joinRecord(set, redis: redis)
        print("join with SIGKILL \(fault): \(roots) roots, \(record.joins.count) joins, \(record.joined.count) member results")
        #expect(FileManager.default.fileExists(atPath: marker), "the fault never fired")
        #expect(record.joins.count == roots && record.joined.count == 2 * roots, "a join was lost or doubled")
        #expect(Set(record.joined).count == 2 * roots, "a member's result was counted twice")
        kill(worker, SIGTERM)
        #expect(await waitForChild(worker) == 0, "worker log: \((try? String(contentsOfFile: log, encoding: .utf8))?.suffix(2000) ?? "")")
        try await redis.shutdown()
    }
}
