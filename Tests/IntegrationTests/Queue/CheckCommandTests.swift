import Foundation
@testable import SwitchboardQueue
import SwitchboardRedis
import Testing

/// `switchboard check [--repair]`: inconsistencies planted with raw Redis commands are found, repaired, and gone.
@Suite("Ops check", .timeLimit(.minutes(3)))
struct CheckCommandTests {
    /// Every key of a queue with its DUMP, to prove a run changed nothing.
    func snapshot(_ redis: RedisClient, _ queue: String) async throws -> [String: [UInt8]] {
        let keys = (try await redis.command(["KEYS", .string("sb:{\(queue)}:*")]).array ?? []).compactMap(\.string)
        var out: [String: [UInt8]] = [:]
        for key in keys where !key.contains(":stats:") {
            out[key] = try await redis.command(["DUMP", .string(key)]).bytes ?? []
        }
        return out
    }

    func findings(_ result: ProcessResult) throws -> [[String: Any]] {
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        return object?["findings"] as? [[String: Any]] ?? []
    }

    @Test func findsEachPlantedInconsistencyRepairsItAndLeavesAConsistentQueueAlone() async throws {
        let redis = try makeRedis()
        let queue = uniqueQueueName("check")
        let k = QueueKeys(queue: queue)
        let jobs = JobQueue(redis: redis)

        // A consistent queue with every kind of entry: done with an idempotency record, dead, ready, scheduled, unique.
        let idem = UniqueOptions(key: "order-7", mode: .idempotent, ttl: .seconds(600))
        let finished = try await jobs.enqueue(DiagnosticJobs.Noop(), options: .init(queue: queue, unique: idem))
        _ = try await jobs.enqueue(DiagnosticJobs.Fail(times: 99), options: .init(queue: queue, retryPolicy: .never))
        try await withWorker(redis: redis, options: fastWorkerOptions(queue: queue)) { _ in
            try await expectEventually { try await QueueInspector(redis: redis).stats(queue: queue).dead == 1 }
            try await expectEventually { try await QueueInspector(redis: redis).stats(queue: queue).processedToday == 1 }
        }
        #expect(try await redis.command(["GET", .string(k.unique("order-7"))]).string == "done:" + finished)
        let ready = try await jobs.enqueue(batch: (0..<4).map { _ in DiagnosticJobs.Noop() }, options: .init(queue: queue))
        _ = try await jobs.enqueue(DiagnosticJobs.Noop(), options: .init(queue: queue, delay: .seconds(600), unique: .init(key: "later")))

        let clean = try await runSwitchboard(["check", "--queue", queue, "--json"])
        #expect(clean.status == 0)
        #expect(try findings(clean).isEmpty)
        let before = try await snapshot(redis, queue)
        let cleanRepair = try await runSwitchboard(["check", "--queue", queue, "--repair"])
        #expect(cleanRepair.status == 0)
        #expect(cleanRepair.stdout.contains("checked 1 queue: consistent"))
        #expect(try await snapshot(redis, queue) == before)

        // Plant, with raw commands, the four kinds the issue names, plus a job that is in no state at all.
        let farFuture = Int64(Date().timeIntervalSince1970 * 1000) + 600_000
        let held = ready[0], twice = ready[1], stranded = ready[2]
        _ = try await redis.pipeline([
            ["RPUSH", .string(k.ready), "ghost-1"],  // an id in a state with no job data
            ["LREM", .string(k.ready), 0, .string(held)],  // an active job whose worker is gone
            ["ZADD", .string(k.active), .int(farFuture), .string(held + "|1|ghost-host:1:gone")],  // a lease: id|token|worker
            ["ZADD", .string(k.scheduled), .int(farFuture), .string(twice)],  // a job in two states (ready + scheduled)
            ["SET", .string(k.unique("lost")), "no-such-job"],  // a unique key pointing at a missing job
            ["LREM", .string(k.ready), 0, .string(stranded)],  // job data in no state
        ])

        let planted = try await snapshot(redis, queue)
        let found = try await runSwitchboard(["check", "--queue", queue, "--json"])
        #expect(found.status == 1)
        let report = try findings(found)
        let bySubject = Dictionary(report.map { ($0["subject"] as? String ?? "", $0["kind"] as? String ?? "") }, uniquingKeysWith: { a, _ in a })
        #expect(
            bySubject == [
                "ghost-1": "orphan-id", held: "no-lease-holder", twice: "two-states", "lost": "dangling-unique", stranded: "stranded",
            ])
        #expect(report.allSatisfy { $0["repair"] == nil })
        #expect(try await snapshot(redis, queue) == planted)  // checking alone changes nothing

        let table = try await runSwitchboard(["check", "--queue", queue])
        #expect(table.status == 1)
        #expect(table.stdout.contains("5 findings; run with --repair to fix"))

        let repaired = try await runSwitchboard(["check", "--queue", queue, "--repair", "--json"])
        #expect(repaired.status == 0)
        let actions = Dictionary(
            try findings(repaired).map { ($0["subject"] as? String ?? "", $0["repair"] as? String ?? "") }, uniquingKeysWith: { a, _ in a })
        #expect(
            actions == [
                "ghost-1": "removed from ready", held: "returned to ready", twice: "kept in ready only", "lost": "key deleted",
                stranded: "added to ready",
            ])

        let again = try await runSwitchboard(["check", "--queue", queue, "--json"])
        #expect(again.status == 0)
        #expect(try findings(again).isEmpty)

        // The repairs left real, runnable state: the ghost is gone, the lost key freed, the idempotency record kept,
        // and a worker runs every ready job (4 noops) to completion.
        let readyIDs = (try await redis.command(["LRANGE", .string(k.ready), 0, -1]).array ?? []).compactMap(\.string)
        #expect(Set(readyIDs) == Set(ready))
        #expect(readyIDs.count == 4)
        #expect(try await redis.command(["ZSCORE", .string(k.scheduled), .string(twice)]) == .null)
        #expect(try await redis.command(["EXISTS", .string(k.unique("lost"))]).int == 0)
        #expect(try await redis.command(["GET", .string(k.unique("order-7"))]).string == "done:" + finished)
        let heldJob = try await QueueInspector(redis: redis).job(held, queue: queue)
        #expect(heldJob?.state == "ready")
        #expect(heldJob?.leaseOwner == nil)
        #expect(heldJob?.errorsJSON?.contains("ghost-host:1:gone is gone") == true)
        try await withWorker(redis: redis, options: fastWorkerOptions(queue: queue)) { _ in
            try await expectEventually { try await QueueInspector(redis: redis).stats(queue: queue).processedToday == 5 }
        }
        let final = try await QueueInspector(redis: redis).stats(queue: queue)
        #expect(final.ready == 0 && final.active == 0 && final.scheduled == 1 && final.dead == 1)
        try await redis.shutdown()
    }
}
