import Foundation
import Logging
@testable import SwitchboardQueue
import SwitchboardRedis
import Synchronization
import Testing

@Suite("Queue delivery", .timeLimit(.minutes(3)))
struct QueueDeliveryTests {
    @Test func aBatchIsEnqueuedInOneCallAndEveryJobRunsOnce() async throws {
        let redis = try makeRedis()
        let queue = uniqueQueueName("batch")
        let set = "probe:\(queue)"
        let ids = try await JobQueue(redis: redis).enqueue(
            batch: (0..<1200).map { _ in DiagnosticJobs.Probe(ms: 0, set: set) }, options: .init(queue: queue))
        #expect(ids.count == 1200)
        #expect(Set(ids).count == 1200)
        let inspector = QueueInspector(redis: redis)
        #expect(try await inspector.counts(queue: queue)["ready"] == 1200)
        try await withWorker(redis: redis, options: fastWorkerOptions(queue: queue, concurrency: 8)) { _ in
            try await expectEventually(timeout: .seconds(60)) { try await redis.command(["GET", .string(set + ":count")]).int == 1200 }
        }
        let ran = Set(try await redis.command(["SMEMBERS", .string(set)]).array?.compactMap(\.string) ?? [])
        #expect(ran == Set(ids))
        let counts = try await inspector.counts(queue: queue)
        #expect(counts.values.allSatisfy { $0 == 0 }, "\(counts)")
        #expect(try await redis.command(["GET", .string(QueueKeys(queue: queue).processed(day: utcDay()))]).int == 1200)
        // Finished jobs are deleted by default (no done retention).
        #expect(try await inspector.job(ids[0], queue: queue) == nil)
        try await redis.shutdown()
    }

    @Test(.exclusive) func aDelayedJobRunsAtItsDueTimeNotAtTheBlockCap() async throws {
        let redis = try makeRedis()
        let queue = uniqueQueueName("delay")
        let log = RunLog()
        var options = fastWorkerOptions(queue: queue)
        options.maxBlock = .seconds(10)  // the due time, not the block cap, must wake the worker
        try await withWorker(redis: redis, options: options, register: { $0.register(Marker.self) { _, c in log.record(c) } }) { _ in
            try await Task.sleep(for: .milliseconds(300))  // the worker is now blocked on an empty queue
            var lateness: [Double] = []
            for delay in [700, 1200] {
                let enqueuedAt = Date()
                try await JobQueue(redis: redis).enqueue(Marker(label: "x"), options: .init(queue: queue, delay: .milliseconds(delay)))
                let before = log.count
                try await expectEventually(timeout: .seconds(12)) { log.count == before + 1 }
                let late = log.all.last!.at.timeIntervalSince(enqueuedAt) * 1000 - Double(delay)
                lateness.append(late)
                #expect(late >= -5, "ran \(late) ms early")
                // Woken by the due time, not by the 10 s block cap. The 100 ms target itself is a speed figure, read
                // from `switchboard bench` (delayed jobs: p99 3-7 ms), not asserted under the suite's load on 2
                // shared cores: when this test starts together with ~50 others, this process's threads can be starved
                // for a second (clean-clone CI passes printed 471, 550, 888, 1,018 and 1,212 ms for the first job), so
                // the bound is half the block cap.
                #expect(late <= 5000, "ran \(late) ms late")
            }
            print("delayed jobs ran late by \(lateness.map { String(format: "%.1f ms", $0) })")
        }
        try await redis.shutdown()
    }

    @Test func aCrashedWorkersJobIsRunAgainAfterItsLeaseLapses() async throws {
        let redis = try makeRedis()
        let queue = uniqueQueueName("crash")
        let id = try await JobQueue(redis: redis).enqueue(Marker(label: "crash"), options: .init(queue: queue))
        // "Worker A" leases it for 1 s and dies (never heartbeats, never finishes).
        let leased = try await takeDirectly(redis, queue: queue, worker: "crashed-worker", lease: .seconds(1))
        #expect(leased.map(\.id) == [id])
        #expect(leased.first?.token == "1")
        let log = RunLog()
        let clock = ContinuousClock()
        let started = clock.now
        var recovery = Duration.zero
        try await withWorker(redis: redis, options: fastWorkerOptions(queue: queue), register: { $0.register(Marker.self) { _, c in log.record(c) } })
        { _ in
            try await expectEventually { log.count == 1 }
            recovery = clock.now - started  // (not after the worker's shutdown, which takes up to a second more)
        }
        // The 1 s lease plus a worker's start, with room for the suite's start-up load: far below any elapsed-time rule.
        #expect(recovery < .seconds(4))
        #expect(log.all.first?.attempt == 2)  // the lapsed lease counted as the first attempt
        #expect(log.all.first?.token == 2)  // and the new lease has a higher fencing token
        #expect(try await redis.command(["GET", .string(QueueKeys(queue: queue).reclaimed)]).int == 1)
        print("lease-lapse recovery: \(recovery)")
        try await redis.shutdown()
    }

    @Test func aStaleTokenCannotFinishAJobTakenOver() async throws {
        let redis = try makeRedis()
        let queue = uniqueQueueName("stale")
        try await JobQueue(redis: redis).enqueue(Marker(label: "stale"), options: .init(queue: queue))
        let first = try #require(try await takeDirectly(redis, queue: queue, worker: "A", lease: .milliseconds(200)).first)
        try await Task.sleep(for: .milliseconds(300))
        let second = try #require(try await takeDirectly(redis, queue: queue, worker: "B", lease: .seconds(30)).first)
        #expect(second.id == first.id)
        #expect(Int(second.token)! > Int(first.token)!)
        // A wakes up and tries to finish: refused and counted.
        #expect(try await completeDirectly(redis, first, worker: "A") == 0)
        #expect(try await redis.command(["GET", .string(QueueKeys(queue: queue).stale)]).int == 1)
        let snapshot = try await QueueInspector(redis: redis).job(first.id, queue: queue)
        #expect(snapshot?.state == "active")
        #expect(snapshot?.leaseOwner == "B")
        #expect(snapshot?.fencingToken == Int64(second.token))
        let listed = try await QueueInspector(redis: redis).list(queues: [queue], states: ["active"], limit: 5)
        #expect(listed.map(\.id) == [first.id] && listed.first?.leaseOwner == "B")  // `jobs --state active` reads leases
        #expect(second.attempt == 2 && snapshot?.attempt == 2)  // A's lapsed lease used up the first attempt
        // The lease is '<id>|<token>|<worker>': another worker that names B's token is refused too.
        #expect(try await completeDirectly(redis, second, worker: "A") == 0)
        #expect(try await redis.command(["GET", .string(QueueKeys(queue: queue).stale)]).int == 2)
        // B finishes normally.
        #expect(try await completeDirectly(redis, second, worker: "B") == 1)
        #expect(try await completeDirectly(redis, second, worker: "B") == 0)  // and only once
        try await redis.shutdown()
    }

    @Test func aLeaseFoundGoneCancelsOnlyTheRunItWasCheckedFor() async throws {
        // The heartbeat snapshots (id, token) of running jobs, then calls extend. If the job failed meanwhile (lease
        // gone) and already runs again here under a new token, extend reports the id, but the new run is not lost.
        let redis = try makeRedis()
        let worker = QueueWorker(redis: redis, registry: JobRegistry(), options: fastWorkerOptions(queue: "q"), logger: Logger(label: "t"))
        let far = ContinuousClock.now + .seconds(60)
        worker.state.withLock { $0.running["j"] = .init(queue: "q", token: "8", softDeadline: far, hardDeadline: far) }
        worker.markLost(["j"], checked: ["j": "7"])
        #expect(worker.state.withLock { $0.running["j"]?.lost } == false)
        worker.markLost(["j"], checked: ["j": "8"])
        #expect(worker.state.withLock { $0.running["j"]?.lost } == true)
        try await redis.shutdown()
    }

    @Test func heartbeatsKeepALongJobLeasedAndItRunsOnce() async throws {
        let redis = try makeRedis()
        let queue = uniqueQueueName("long")
        let set = "probe:\(queue)"
        // A job twice as long as its lease. The lease leaves 2.7 s for a late heartbeat: with a 1 s lease, a stall of
        // the test process under the suite's start-up load let it lapse in CI, and the job ran twice.
        var options = fastWorkerOptions(queue: queue)
        options.leaseDuration = .seconds(3)
        options.heartbeatInterval = .milliseconds(300)
        try await JobQueue(redis: redis).enqueue(DiagnosticJobs.Probe(ms: 6000, set: set), options: .init(queue: queue))
        try await withWorker(redis: redis, options: options) { _ in
            try await expectEventually(timeout: .seconds(15)) { try await redis.command(["GET", .string(set + ":count")]).int == 1 }
            try await Task.sleep(for: .milliseconds(1500))  // a reclaim would have re-run it by now
        }
        #expect(try await redis.command(["GET", .string(set + ":count")]).int == 1)
        #expect(try await redis.command(["GET", .string(QueueKeys(queue: queue).reclaimed)]) == .null)
        try await redis.shutdown()
    }

    @Test func gracefulStopHandsARunningJobBackWithoutUsingAnAttempt() async throws {
        let redis = try makeRedis()
        let queue = uniqueQueueName("drain")
        // A 10 s job and a 1 s grace: the worker must hand it back after the grace, not wait it out. The bound leaves
        // seconds for a loaded machine (3.25 s was seen in CI against a 2.5 s bound) and stays far from the job's 10 s.
        let id = try await JobQueue(redis: redis).enqueue(DiagnosticJobs.Sleep(ms: 10_000), options: .init(queue: queue))
        var options = fastWorkerOptions(queue: queue)
        options.gracePeriod = .seconds(1)
        let clock = ContinuousClock()
        var stopAsked = clock.now
        try await withWorker(redis: redis, options: options) { worker in
            try await expectEventually { worker.runningCount == 1 }
            stopAsked = clock.now
        }
        let drained = clock.now - stopAsked
        #expect(drained < .seconds(6))
        let snapshot = try await QueueInspector(redis: redis).job(id, queue: queue)
        #expect(snapshot?.state == "ready")
        #expect(snapshot?.attempt == 0)
        #expect(try await QueueInspector(redis: redis).counts(queue: queue)["ready"] == 1)
        #expect(try await redis.command(["EXISTS", .string("sb:worker:" + options.workerID)]) == .integer(0))
        try await redis.shutdown()
    }

    @Test func aWorkerOnSeveralQueuesWakesForEachAndDrainsBoth() async throws {
        let redis = try makeRedis(connections: 8)
        let first = uniqueQueueName("multi-a")
        let second = uniqueQueueName("multi-b")
        var options = fastWorkerOptions(queue: first)
        options.queues = [first, second]
        options.maxBlock = .seconds(10)  // a doorbell, not the idle timeout, must wake it
        let log = RunLog()
        try await withWorker(redis: redis, options: options, register: { $0.register(Marker.self) { _, c in log.record(c) } }) { _ in
            try await Task.sleep(for: .milliseconds(300))
            let clock = ContinuousClock()
            let started = clock.now
            try await JobQueue(redis: redis).enqueue(Marker(label: "b"), options: .init(queue: second))
            try await expectEventually(timeout: .seconds(8)) { log.count == 1 }
            // Woken by the doorbell, not the 10 s idle timeout (the bound is loose: the suite loads both cores, and
            // 2.97 s against a 2.5 s bound failed once).
            #expect(clock.now - started < .seconds(5))
            try await JobQueue(redis: redis).enqueue(batch: (0..<50).map { _ in Marker(label: "a") }, options: .init(queue: first))
            try await expectEventually { log.count == 51 }
        }
        try await redis.shutdown()
    }

    @Test func statsReportSizesLatencyAndTodaysCounters() async throws {
        let redis = try makeRedis()
        let queue = uniqueQueueName("stats")
        let jobs = JobQueue(redis: redis)
        let inspector = QueueInspector(redis: redis)
        #expect(try await inspector.stats(queue: queue).latencyMs == 0)
        try await jobs.enqueue(batch: [DiagnosticJobs.Noop(), DiagnosticJobs.Noop()], options: .init(queue: queue))
        try await jobs.enqueue(DiagnosticJobs.Noop(), options: .init(queue: queue, delay: .seconds(60)))
        try await Task.sleep(for: .milliseconds(300))
        let before = try await inspector.stats(queue: queue)
        #expect(before.ready == 2)
        #expect(before.scheduled == 1)
        #expect(before.latencyMs >= 290 && before.latencyMs < 5000, "\(before.latencyMs)")
        try await jobs.enqueue(DiagnosticJobs.Fail(times: 1), options: .init(queue: queue, retryPolicy: .never))
        try await withWorker(redis: redis, options: fastWorkerOptions(queue: queue)) { _ in
            try await expectEventually { try await inspector.stats(queue: queue).dead == 1 }
        }
        let after = try await inspector.stats(queue: queue)
        #expect(after.ready == 0 && after.latencyMs == 0)
        #expect(after.processedToday == 2)
        #expect(after.failedToday == 1)
        #expect(after.paused == false)
        try await redis.shutdown()
    }

    @Test func aLeaseLapsedOnTheLastAttemptGoesDeadAndReleasesItsUniqueKey() async throws {
        let redis = try makeRedis()
        let queue = uniqueQueueName("lapse-dead")
        let jobs = JobQueue(redis: redis)
        let unique = UniqueOptions(key: "poison", mode: .whileActive)
        let id = try await jobs.enqueue(Marker(label: "poison"), options: .init(queue: queue, unique: unique, retryPolicy: .never))
        #expect(try await takeDirectly(redis, queue: queue, worker: "doomed", lease: .milliseconds(100)).map(\.id) == [id])
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await takeDirectly(redis, queue: queue, worker: "next", lease: .seconds(30)).isEmpty)  // reclaimed straight to dead
        let job = try #require(try await QueueInspector(redis: redis).job(id, queue: queue))
        #expect(job.state == "dead")
        #expect(job.errorsJSON?.contains("lease lapsed: worker doomed stopped heartbeating") == true)
        #expect(try await jobs.enqueue(Marker(label: "poison"), options: .init(queue: queue, unique: unique)) != id)
        try await redis.shutdown()
    }

    @Test func optionsEqualToTheDefaultsAreNotStoredAndOptionsStoredInFullStillApply() async throws {
        let redis = try makeRedis()
        let queue = uniqueQueueName("options")
        let k = QueueKeys(queue: queue)
        let jobs = JobQueue(redis: redis)
        let plain = try await jobs.enqueue(Marker(label: "plain"), options: .init(queue: queue))
        let custom = try await jobs.enqueue(
            Marker(label: "custom"),
            options: .init(queue: queue, retryPolicy: RetryPolicy(maxAttempts: 3, base: .milliseconds(50), cap: .seconds(1)), timeout: .seconds(7)))
        let old = try await jobs.enqueue(Marker(label: "old"), options: .init(queue: queue))
        // A job stored before the defaults were left out: its options in full.
        let full = #"{"retry":{"base_ms":2000,"cap_ms":900000,"max_attempts":2},"timeout_ms":9000}"#
        try await redis.command(["HSET", .string(k.job(old)), "options", .string(full)])

        #expect(try await redis.command(["HGET", .string(k.job(plain)), "options"]).string == "{}")
        // Every field of a small job fits Redis's compact hash encoding.
        #expect(try await redis.command(["OBJECT", "ENCODING", .string(k.job(plain))]).string == "listpack")
        let leased = Dictionary(
            uniqueKeysWithValues: try await takeDirectly(redis, queue: queue, worker: "w", lease: .seconds(30), count: 3).map { ($0.id, $0) })
        #expect(leased[plain]?.options == StoredOptions(retry: .default, timeoutMs: 300_000))
        #expect(leased[plain]?.maxAttempts == 10)
        #expect(leased[custom]?.options.retry == RetryPolicy(maxAttempts: 3, base: .milliseconds(50), cap: .seconds(1)))
        #expect(leased[custom]?.options.timeoutMs == 7_000)
        #expect(leased[custom]?.maxAttempts == 3)
        #expect(leased[old]?.options == StoredOptions(retry: RetryPolicy(maxAttempts: 2), timeoutMs: 9_000))
        #expect(leased[old]?.maxAttempts == 2)
        try await redis.shutdown()
    }
}
