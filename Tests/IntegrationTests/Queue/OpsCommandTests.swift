import Foundation
@testable import SwitchboardQueue
import SwitchboardRedis
import Testing

/// The ops commands, driven through the built binary against real Redis.
@Suite("Ops commands", .timeLimit(.minutes(3)))
struct OpsCommandTests {
    func json(_ result: ProcessResult) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
    }

    @Test func queuesJobRetryDiscardAndWorkersReportAndChangeWhatHappened() async throws {
        let redis = try makeRedis()
        let queue = uniqueQueueName("ops")
        let jobs = JobQueue(redis: redis)
        try await jobs.enqueue(batch: (0..<3).map { _ in DiagnosticJobs.Noop() }, options: .init(queue: queue))
        let doomed = try await jobs.enqueue(batch: (0..<2).map { _ in DiagnosticJobs.Fail(times: 99) }, options: .init(queue: queue, retryPolicy: .never))
        let later = try await jobs.enqueue(DiagnosticJobs.Noop(), options: .init(queue: queue, delay: .seconds(600)))
        var options = fastWorkerOptions(queue: queue)
        options.concurrency = 2
        try await withWorker(redis: redis, options: options) { worker in
            try await expectEventually { try await QueueInspector(redis: redis).stats(queue: queue).dead == 2 }
            let workers = try await runSwitchboard(["workers", "--json"])
            #expect(workers.status == 0)
            let list = try json(workers) as? [[String: Any]] ?? []
            let mine = list.first { $0["id"] as? String == options.workerID }
            #expect(mine?["dead"] as? Bool == false)
            #expect(mine?["queues"] as? [String] == [queue])
            #expect(mine?["concurrency"] as? Int == 2)
        }

        let queues = try await runSwitchboard(["queues", "--json"])
        #expect(queues.status == 0)
        let row = (try json(queues) as? [[String: Any]])?.first { $0["queue"] as? String == queue }
        #expect(row?["dead"] as? Int == 2)
        #expect(row?["scheduled"] as? Int == 1)
        #expect(row?["processedToday"] as? Int == 3)
        #expect(row?["failedToday"] as? Int == 2)

        let shown = try await runSwitchboard(["job", doomed[0], "--json"])
        #expect(shown.status == 0)
        let job = try json(shown) as? [String: Any]
        #expect(job?["state"] as? String == "dead")
        #expect(job?["queue"] as? String == queue)
        #expect((job?["args"] as? [String: Any])?["times"] as? Int == 99)
        #expect(((job?["errors"] as? [[String: Any]])?.first?["message"] as? String) == "planned failure on attempt 1")
        #expect(try await runSwitchboard(["job", later, "--json"]).stdout.contains(#""state" : "scheduled""#))

        let retried = try await runSwitchboard(["retry", doomed[0]])
        #expect(retried.status == 0)
        #expect(retried.stdout.contains("retried \(doomed[0])"))
        #expect(try await QueueInspector(redis: redis).job(doomed[0], queue: queue)?.state == "ready")
        let again = try await runSwitchboard(["retry", doomed[0]])
        #expect(again.status == 1)  // no longer dead
        let discarded = try await runSwitchboard(["discard", doomed[1], "--json"])
        #expect(discarded.status == 0)
        #expect(try await QueueInspector(redis: redis).job(doomed[1], queue: queue) == nil)

        let missing = try await runSwitchboard(["job", "no-such-job"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no job no-such-job"))
        let usage = try await runSwitchboard(["retry"])
        #expect(usage.status == 2)
        try await redis.shutdown()
    }

    @Test func pauseHoldsAQueuesJobsAndResumeReleasesThemAtOnce() async throws {
        let redis = try makeRedis()
        let queue = uniqueQueueName("pause")
        let set = "probe:\(queue)"
        #expect(try await runSwitchboard(["pause", queue]).status == 0)
        #expect(try await runSwitchboard(["pause", queue]).status == 1)  // already paused
        var options = fastWorkerOptions(queue: queue)
        options.maxBlock = .seconds(5)
        try await withWorker(redis: redis, options: options) { _ in
            try await JobQueue(redis: redis).enqueue(DiagnosticJobs.Probe(ms: 0, set: set), options: .init(queue: queue))
            try await Task.sleep(for: .milliseconds(1200))
            #expect(try await redis.command(["GET", .string(set + ":count")]) == .null)  // enqueued, not taken
            #expect(try await QueueInspector(redis: redis).stats(queue: queue).paused)
            let clock = ContinuousClock()
            let resumed = clock.now
            #expect(try await runSwitchboard(["resume", queue]).status == 0)
            try await expectEventually { try await redis.command(["GET", .string(set + ":count")]).int == 1 }
            #expect(clock.now - resumed < .seconds(2))
        }
        #expect(try await runSwitchboard(["resume", queue]).status == 1)  // not paused
        try await redis.shutdown()
    }

    @Test func purgeRefusesWithoutYesOffATerminalAndDeletesWithIt() async throws {
        let redis = try makeRedis()
        let queue = uniqueQueueName("purge")
        let jobs = JobQueue(redis: redis)
        let dead = try await jobs.enqueue(batch: (0..<3).map { _ in DiagnosticJobs.Fail(times: 9) }, options: .init(queue: queue, retryPolicy: .never))
        try await jobs.enqueue(DiagnosticJobs.Noop(), options: .init(queue: queue, delay: .seconds(600)))
        try await withWorker(redis: redis, options: fastWorkerOptions(queue: queue)) { _ in
            try await expectEventually { try await QueueInspector(redis: redis).stats(queue: queue).dead == 3 }
        }
        let listed = try await runSwitchboard(["jobs", "--queue", queue, "--state", "dead", "--json"])
        #expect(listed.status == 0)
        let ids = (try json(listed) as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []
        #expect(Set(ids) == Set(dead))
        #expect(try await runSwitchboard(["jobs", "--queue", queue, "--name", "noop", "--json"]).stdout.contains(#""state" : "scheduled""#))

        let refused = try await runSwitchboard(["purge", queue, "--state", "dead"])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("add --yes"))
        #expect(try await QueueInspector(redis: redis).stats(queue: queue).dead == 3)
        #expect(try await runSwitchboard(["purge", queue, "--state", "active", "--yes"]).status == 2)
        let purged = try await runSwitchboard(["purge", queue, "--state", "dead", "--yes"])
        #expect(purged.status == 0)
        #expect(purged.stdout.contains("deleted 3 dead jobs"))
        let after = try await QueueInspector(redis: redis).stats(queue: queue)
        #expect(after.dead == 0 && after.scheduled == 1)
        for id in dead { #expect(try await QueueInspector(redis: redis).job(id, queue: queue) == nil) }
        try await redis.shutdown()
    }
}
