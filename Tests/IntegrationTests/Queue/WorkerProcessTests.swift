import SwitchboardProcess
import Foundation
@testable import SwitchboardQueue
import SwitchboardHTTP
import SwitchboardRedis
import Testing

/// The built `switchboard worker` (supervisor + children), driven with real signals.
@Suite("Worker processes", .serialized, .exclusive, .timeLimit(.minutes(5)))
struct WorkerProcessTests {
    /// Starts `switchboard worker` with `arguments`; its output goes to a log file named in failures.
    func startWorker(_ arguments: [String]) throws -> (pid: pid_t, log: String) { try startWorkerProcess(arguments) }

    /// The live child workers (id, pid) serving `queue`, from their heartbeats.
    func children(of queue: String, redis: RedisClient) async throws -> [(id: String, pid: Int32)] {
        let ids = try await redis.command(["ZRANGE", "sb:workers", 0, -1]).array?.compactMap(\.string) ?? []
        var out: [(String, Int32)] = []
        for id in ids {
            let fields = try await redis.command(["HMGET", .string("sb:worker:" + id), "pid", "queues"]).array ?? []
            if fields.count == 2, fields[1].string == queue, let pid = fields[0].int, kill(Int32(pid), 0) == 0 { out.append((id, Int32(pid))) }
        }
        return out
    }

    /// The leases in a queue's `active` zset.
    func leases(in keys: QueueKeys, redis: RedisClient) async throws -> [LeaseMember] {
        (try await redis.command(["ZRANGE", .string(keys.active), 0, -1]).array ?? []).compactMap { $0.string.flatMap(LeaseMember.init) }
    }

    @Test func sigtermHandsARunningJobBackWithItsAttemptUnchangedAndExitsZero() async throws {
        let redis = try makeRedis()
        let queue = uniqueQueueName("term")
        // 10 s: still running when the 1 s grace ends however late the test sees it start (a 3 s job finished inside
        // the grace once under load, and its data was gone).
        let id = try await JobQueue(redis: redis).enqueue(DiagnosticJobs.Sleep(ms: 10_000), options: .init(queue: queue))
        let worker = try startWorker(["--queues", queue, "--processes", "1", "--concurrency", "2", "--grace", "1s"])
        let inspector = QueueInspector(redis: redis)
        try await expectEventually { try await inspector.job(id, queue: queue)?.state == "active" }
        let clock = ContinuousClock()
        let signalled = clock.now
        kill(worker.pid, SIGTERM)
        let status = await waitForChild(worker.pid)
        let took = clock.now - signalled
        #expect(status == 0, "worker log: \((try? String(contentsOfFile: worker.log, encoding: .utf8)) ?? "")")
        #expect(took < .seconds(5))
        let job = try #require(try await inspector.job(id, queue: queue))
        #expect(job.state == "ready")
        #expect(job.attempt == 0)
        #expect(job.leaseOwner == nil)
        print("SIGTERM drain with --grace 1s: exit \(status) after \(took)")
        try await redis.shutdown()
    }

    @Test func sigkilledChildrenLoseNoJobAndTheirJobsRunAgainWithin15Seconds() async throws {
        let redis = try makeRedis()
        let queue = uniqueQueueName("kill")
        let set = "probe:\(queue)"
        let total = 5000
        let ids = try await JobQueue(redis: redis).enqueue(
            batch: (0..<total).map { _ in DiagnosticJobs.Probe(ms: 50, set: set) }, options: .init(queue: queue))
        let worker = try startWorker(["--queues", queue, "--processes", "2", "--concurrency", "16", "--grace", "5s"])
        let clock = ContinuousClock()
        let k = QueueKeys(queue: queue)
        try await expectEventually { try await children(of: queue, redis: redis).count == 2 }

        // Every 100 ms: every 2 s SIGKILL a child (five times), and watch each killed job until it leaves its dead
        // owner (lease reclaimed → ready → leased again). Its recovery time is kill → that moment.
        var pending: [(id: String, owner: String, killedAt: ContinuousClock.Instant)] = []
        var recoveries: [Duration] = []
        var hits: [Int] = []
        var nextKill = clock.now + .seconds(2)
        let deadline = clock.now + .seconds(90)
        while (hits.count < 5 || !pending.isEmpty) && clock.now < deadline {
            if hits.count < 5 && clock.now >= nextKill {
                nextKill = nextKill + .seconds(2)
                let live = try await children(of: queue, redis: redis)
                if !live.isEmpty {
                    let victim = live[hits.count % live.count]
                    let theirs = try await leases(in: k, redis: redis).filter { $0.worker == victim.id }.map(\.jobID)
                    kill(victim.pid, SIGKILL)
                    let at = clock.now
                    pending += theirs.map { ($0, victim.id, at) }
                    hits.append(theirs.count)
                }
            }
            if !pending.isEmpty {
                let held = Set(try await leases(in: k, redis: redis).map { "\($0.jobID)|\($0.worker)" })
                let now = clock.now
                var still: [(id: String, owner: String, killedAt: ContinuousClock.Instant)] = []
                for entry in pending {
                    if held.contains("\(entry.id)|\(entry.owner)") { still.append(entry) } else { recoveries.append(now - entry.killedAt) }
                }
                pending = still
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(pending.isEmpty, "\(pending.count) killed jobs never left their dead worker")
        try await expectEventually(timeout: .seconds(120)) { try await redis.command(["SCARD", .string(set)]).int == Int64(total) }

        let ran = Set(try await redis.command(["SMEMBERS", .string(set)]).array?.compactMap(\.string) ?? [])
        let executions = try await redis.command(["GET", .string(set + ":count")]).int ?? 0
        let reclaimed = try await redis.command(["GET", .string(k.reclaimed)]).int ?? 0
        let longest = recoveries.max() ?? .zero
        #expect(ran == Set(ids), "lost \(Set(ids).subtracting(ran).count) jobs")
        #expect(hits.reduce(0, +) > 0, "no kill hit a running job")
        #expect(longest <= .seconds(15))
        print(
            "kill test: \(total) jobs; 5 SIGKILLs hit \(hits) running jobs; lost \(Set(ids).subtracting(ran).count); executions \(executions) (\(executions - Int64(total)) duplicates); leases reclaimed \(reclaimed); longest kill→re-lease \(longest)"
        )

        kill(worker.pid, SIGTERM)
        #expect(await waitForChild(worker.pid) == 0)
        try await redis.shutdown()
    }

    @Test func benchReportsThroughputLatencyAndCommandsPerJob() async throws {
        let run = try await runSwitchboard(
            ["bench", "--jobs", "600", "--processes", "1", "--concurrency", "8", "--rate", "100", "--latency-jobs", "60", "--json"],
            environment: ["LOG_LEVEL": "warning"])
        #expect(run.status == 0, "\(run.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect((json["processingJobsPerSecond"] as? Double ?? 0) > 0)
        #expect((json["enqueueBatchJobsPerSecond"] as? Double ?? 0) > 0)
        #expect((json["redisCommandsPerJob"] as? Double ?? 0) > 1)
        #expect((json["latencyP99Ms"] as? Double ?? -1) >= (json["latencyP50Ms"] as? Double ?? 0))
    }

    @Test func workerChildrenServePrometheusMetrics() async throws {
        let redis = try makeRedis()
        let queue = uniqueQueueName("metrics")
        try await JobQueue(redis: redis).enqueue(batch: (0..<5).map { _ in DiagnosticJobs.Noop() }, options: .init(queue: queue))
        try await JobQueue(redis: redis).enqueue(DiagnosticJobs.Fail(times: 9), options: .init(queue: queue, retryPolicy: .never))
        let port = try freeLoopbackPort()
        let worker = try startWorker(["--queues", queue, "--processes", "1", "--concurrency", "4", "--metrics-port", String(port)])
        let inspector = QueueInspector(redis: redis)
        try await expectEventually {
            let s = try await inspector.stats(queue: queue)
            return s.processedToday == 5 && s.dead == 1
        }
        let http = HTTPClient()
        let response = try await http.execute(.init(url: "http://127.0.0.1:\(port)/metrics"))
        try await http.shutdown()
        #expect(response.status == 200)
        #expect(response.text.contains(#"switchboard_jobs_total{queue="\#(queue)",name="noop",outcome="completed"} 5"#), "\(response.text)")
        #expect(response.text.contains(#"switchboard_jobs_total{queue="\#(queue)",name="fail",outcome="dead"} 1"#))
        #expect(response.text.contains("switchboard_job_duration_seconds_bucket"))
        kill(worker.pid, SIGTERM)
        #expect(await waitForChild(worker.pid) == 0)
        try await redis.shutdown()
    }
}
