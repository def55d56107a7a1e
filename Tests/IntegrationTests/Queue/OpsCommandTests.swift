import Foundation
import SwitchboardProcess
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
        let doomed = try await jobs.enqueue(
            batch: (0..<2).map { _ in DiagnosticJobs.Fail(times: 99) }, options: .init(queue: queue, retryPolicy: .never))
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
        options.maxBlock = .seconds(10)  // so that only the resume's doorbell can explain a run within 5 s
        try await withWorker(redis: redis, options: options) { _ in
            try await JobQueue(redis: redis).enqueue(DiagnosticJobs.Probe(ms: 0, set: set), options: .init(queue: queue))
            try await Task.sleep(for: .milliseconds(1200))
            #expect(try await redis.command(["GET", .string(set + ":count")]) == .null)  // enqueued, not taken
            #expect(try await QueueInspector(redis: redis).stats(queue: queue).paused)
            let clock = ContinuousClock()
            let resumed = clock.now
            #expect(try await runSwitchboard(["resume", queue]).status == 0)
            try await expectEventually { try await redis.command(["GET", .string(set + ":count")]).int == 1 }
            #expect(clock.now - resumed < .seconds(5))  // includes starting `switchboard resume`
        }
        #expect(try await runSwitchboard(["resume", queue]).status == 1)  // not paused
        try await redis.shutdown()
    }

    @Test func purgeRefusesWithoutYesOffATerminalAndDeletesWithIt() async throws {
        let redis = try makeRedis()
        let queue = uniqueQueueName("purge")
        let jobs = JobQueue(redis: redis)
        let dead = try await jobs.enqueue(
            batch: (0..<3).map { _ in DiagnosticJobs.Fail(times: 9) }, options: .init(queue: queue, retryPolicy: .never))
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

    /// `top` under tmux, against a private redis-server so the screen holds only this test's queue and worker.
    @Test func topRedrawsQueuesAndWorkersUnderTmuxAndQuitsOnQ() async throws {
        let server = try await RedisServerProcess()
        let redis = RedisClient(configuration: try RedisConfiguration(url: server.url), maxConnections: 2)
        let queue = uniqueQueueName("top")
        try await JobQueue(redis: redis).enqueue(DiagnosticJobs.Noop(), options: .init(queue: queue, delay: .seconds(3600)))
        let worker = try spawnWithCleanSignals(
            [try TestEnvironment.switchboardBinary(), "worker", "--queues", queue, "--processes", "1", "--concurrency", "3"],
            outputPath: "/dev/null", environment: ["REDIS_URL": server.url])
        let socket = "sbtop-\(UUID().uuidString.prefix(8))"
        func tmux(_ arguments: [String]) async throws -> ProcessResult {
            try await RunningProcess("/usr/bin/tmux", ["-L", socket] + arguments).wait()
        }
        let command = "REDIS_URL=\(server.url) \(try TestEnvironment.switchboardBinary()) top --interval 300ms; echo TOP-EXIT=$?; sleep 60"
        // new-session forks the tmux server, which would hold an output pipe open for ever: give it /dev/null.
        let created = try spawnWithCleanSignals(
            ["/usr/bin/tmux", "-L", socket, "new-session", "-d", "-s", "top", "-x", "150", "-y", "30", command], outputPath: "/dev/null")
        #expect(await waitForChild(created) == 0)
        var screen = ""
        try await expectEventually(timeout: .seconds(15)) {
            screen = try await tmux(["capture-pane", "-p", "-t", "top"]).stdout
            // A whole frame: capture-pane can catch a redraw half written.
            return screen.contains(queue) && screen.contains("0/3") && screen.contains("q or Ctrl-C to quit")
        }
        #expect(screen.contains("QUEUE"))
        #expect(screen.contains("WORKER"))
        #expect(screen.contains("q or Ctrl-C to quit"))
        print("top under tmux:\n" + screen.split(separator: "\n").filter { !$0.isEmpty }.joined(separator: "\n"))
        _ = try await tmux(["send-keys", "-t", "top", "q"])
        try await expectEventually(timeout: .seconds(5)) { try await tmux(["capture-pane", "-p", "-t", "top"]).stdout.contains("TOP-EXIT=0") }
        _ = try await tmux(["kill-server"])
        kill(worker, SIGTERM)
        #expect(await waitForChild(worker) == 0)
        try await redis.shutdown()
        await server.stop()
    }
}
