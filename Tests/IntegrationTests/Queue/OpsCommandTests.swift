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
}
