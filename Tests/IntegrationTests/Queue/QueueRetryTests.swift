import Foundation
@testable import SwitchboardQueue
import SwitchboardRedis
import Testing

@Suite("Queue retries and the dead set", .timeLimit(.minutes(3)))
struct QueueRetryTests {
    let fast = RetryPolicy(maxAttempts: 4, base: .milliseconds(40), cap: .milliseconds(150))

    @Test func aJobFailingTwiceSucceedsOnItsThirdAttemptWithItsErrorsRecorded() async throws {
        let redis = try makeRedis()
        let queue = uniqueQueueName("retry")
        let id = try await JobQueue(redis: redis).enqueue(DiagnosticJobs.Fail(times: 2), options: .init(queue: queue, retryPolicy: fast))
        var options = fastWorkerOptions(queue: queue)
        options.doneRetention = Retention(count: 100, age: .seconds(60))
        let inspector = QueueInspector(redis: redis)
        try await withWorker(redis: redis, options: options) { _ in
            try await expectEventually { try await inspector.job(id, queue: queue)?.state == "done" }
        }
        let job = try #require(try await inspector.job(id, queue: queue))
        #expect(job.attempt == 3)
        let errors = try JSONSerialization.jsonObject(with: Data((job.errorsJSON ?? "[]").utf8)) as? [[String: Any]]
        #expect(errors?.map { $0["attempt"] as? Int } == [1, 2])
        #expect(errors?.first?["message"] as? String == "planned failure on attempt 1")
        #expect(try await redis.command(["GET", .string(QueueKeys(queue: queue).failed(day: utcDay()))]).int == 2)
        try await redis.shutdown()
    }

    @Test func afterTheLastAttemptTheJobIsDeadAndCanBeRevivedOrDiscarded() async throws {
        let redis = try makeRedis()
        let queue = uniqueQueueName("dead")
        let jobs = JobQueue(redis: redis)
        let inspector = QueueInspector(redis: redis)
        let doomed = try await jobs.enqueue(
            DiagnosticJobs.Fail(times: 99),
            options: .init(queue: queue, retryPolicy: RetryPolicy(maxAttempts: 3, base: .milliseconds(20), cap: .milliseconds(50))))
        let refused = try await jobs.enqueue(Marker(label: "no"), options: .init(queue: queue, retryPolicy: fast))
        try await withWorker(
            redis: redis, options: fastWorkerOptions(queue: queue),
            register: { $0.register(Marker.self) { _, _ in throw DoNotRetry("the order no longer exists") } }
        ) { _ in
            try await expectEventually { try await inspector.counts(queue: queue)["dead"] == 2 }
        }
        let dead = try #require(try await inspector.job(doomed, queue: queue))
        #expect(dead.state == "dead")
        #expect(dead.attempt == 3)
        #expect(dead.errorsJSON?.contains("planned failure on attempt 3") == true)
        let noRetry = try #require(try await inspector.job(refused, queue: queue))
        #expect(noRetry.attempt == 1)  // DoNotRetry skipped the remaining attempts
        #expect(noRetry.errorsJSON?.contains("do not retry: the order no longer exists") == true)

        #expect(try await inspector.revive(doomed, queue: queue))
        let revived = try #require(try await inspector.job(doomed, queue: queue))
        #expect(revived.state == "ready")
        #expect(revived.attempt == 0)
        #expect(revived.errorsJSON?.contains("attempt 3") == true)  // history kept
        #expect(try await inspector.revive(doomed, queue: queue) == false)  // not dead any more
        #expect(try await inspector.discard(refused, queue: queue))
        #expect(try await inspector.job(refused, queue: queue) == nil)
        try await redis.shutdown()
    }

    @Test func theDeadSetKeepsItsRetentionByCountAndByAge() async throws {
        let redis = try makeRedis()
        let queue = uniqueQueueName("retain")
        let jobs = JobQueue(redis: redis)
        let inspector = QueueInspector(redis: redis)
        var options = fastWorkerOptions(queue: queue, concurrency: 1)
        options.deadRetention = Retention(count: 5, age: .seconds(3600))
        let ids = try await jobs.enqueue(batch: (0..<8).map { _ in DiagnosticJobs.Fail(times: 1) }, options: .init(queue: queue, retryPolicy: .never))
        try await withWorker(redis: redis, options: options) { _ in
            try await expectEventually { try await redis.command(["GET", .string(QueueKeys(queue: queue).failed(day: utcDay()))]).int == 8 }
        }
        #expect(try await inspector.counts(queue: queue)["dead"] == 5)
        let kept = try await redis.command(["ZRANGE", .string(QueueKeys(queue: queue).dead), 0, -1]).array?.compactMap(\.string) ?? []
        #expect(Set(kept) == Set(ids.suffix(5)))  // concurrency 1: they died in order, the oldest three were trimmed
        for id in ids.prefix(3) { #expect(try await inspector.job(id, queue: queue) == nil) }

        // By age: with a 300 ms window, an old dead job is trimmed when the next one dies.
        let aged = uniqueQueueName("aged")
        var agedOptions = fastWorkerOptions(queue: aged, concurrency: 1)
        agedOptions.deadRetention = Retention(count: 100, age: .milliseconds(300))
        let first = try await jobs.enqueue(DiagnosticJobs.Fail(times: 1), options: .init(queue: aged, retryPolicy: .never))
        try await withWorker(redis: redis, options: agedOptions) { _ in
            try await expectEventually { try await inspector.counts(queue: aged)["dead"] == 1 }
            try await Task.sleep(for: .milliseconds(400))
            let second = try await jobs.enqueue(DiagnosticJobs.Fail(times: 1), options: .init(queue: aged, retryPolicy: .never))
            try await expectEventually { try await inspector.job(second, queue: aged)?.state == "dead" }
        }
        #expect(try await inspector.job(first, queue: aged) == nil)
        #expect(try await inspector.counts(queue: aged)["dead"] == 1)
        try await redis.shutdown()
    }

    @Test func aHandlerPastItsSoftTimeoutIsCancelledAndTheAttemptFails() async throws {
        let redis = try makeRedis()
        let queue = uniqueQueueName("timeout")
        // A 60 s sleep with a 200 ms timeout: dead within 10 s (the wait's bound) only if the handler was cancelled.
        // No tighter wall-clock bound: under the suite's load, worker start-up alone has taken over a second.
        let id = try await JobQueue(redis: redis).enqueue(
            DiagnosticJobs.Sleep(ms: 60_000), options: .init(queue: queue, retryPolicy: .never, timeout: .milliseconds(200)))
        let inspector = QueueInspector(redis: redis)
        try await withWorker(redis: redis, options: fastWorkerOptions(queue: queue)) { _ in
            try await expectEventually(timeout: .seconds(10)) { try await inspector.job(id, queue: queue)?.state == "dead" }
        }
        #expect(try await inspector.job(id, queue: queue)?.errorsJSON?.contains("ran past its timeout") == true)
        try await redis.shutdown()
    }
}

@Suite("Unique jobs", .timeLimit(.minutes(3)))
struct UniqueJobTests {
    @Test func twoProducersEnqueueingOneKeyAThousandTimesEachCreateOneJob() async throws {
        let queue = uniqueQueueName("unique")
        let producers = [try makeRedis(connections: 4), try makeRedis(connections: 4)]
        let unique = UniqueOptions(key: "conversation-42", mode: .whileActive)
        let ids = try await withThrowingTaskGroup(of: [String].self) { group in
            for redis in producers {
                group.addTask {
                    try await withThrowingTaskGroup(of: String.self) { inner in
                        for _ in 0..<1000 {
                            inner.addTask {
                                try await JobQueue(redis: redis).enqueue(Marker(label: "u"), options: .init(queue: queue, unique: unique))
                            }
                        }
                        return try await inner.reduce(into: []) { $0.append($1) }
                    }
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(ids.count == 2000)
        #expect(Set(ids).count == 1)
        #expect(try await QueueInspector(redis: producers[0]).counts(queue: queue)["ready"] == 1)
        for redis in producers { try await redis.shutdown() }
    }

    @Test func twoProcessesEnqueueingOneKeyAThousandTimesEachCreateOneJob() async throws {
        let queue = uniqueQueueName("unique2p")
        let arguments = ["enqueue", "noop", "--queue", queue, "--unique", "order-7", "--count", "1000"]
        let first = try RunningProcess(try TestEnvironment.switchboardBinary(), arguments)
        let second = try RunningProcess(try TestEnvironment.switchboardBinary(), arguments)
        let results = [await first.wait(), await second.wait()]
        #expect(results.map(\.status) == [0, 0], "\(results.map(\.stderr))")
        let ids = results.flatMap { $0.stdout.split(separator: "\n").map(String.init) }
        #expect(ids.count == 2000)
        #expect(Set(ids).count == 1)
        let redis = try makeRedis(connections: 1)
        #expect(try await QueueInspector(redis: redis).counts(queue: queue)["ready"] == 1)
        try await redis.shutdown()
    }

    @Test func uniqueModesReleaseAtStartAtFinishOrAfterTheirTTL() async throws {
        let redis = try makeRedis()
        let jobs = JobQueue(redis: redis)
        // whileQueued: released when the job starts.
        let q1 = uniqueQueueName("uq")
        let a = try await jobs.enqueue(Marker(label: "a"), options: .init(queue: q1, unique: .init(key: "k", mode: .whileQueued)))
        #expect(try await jobs.enqueue(Marker(label: "a"), options: .init(queue: q1, unique: .init(key: "k", mode: .whileQueued))) == a)
        let leased = try await takeDirectly(redis, queue: q1, worker: "w", lease: .seconds(30))
        #expect(leased.map(\.id) == [a])
        #expect(try await jobs.enqueue(Marker(label: "a"), options: .init(queue: q1, unique: .init(key: "k", mode: .whileQueued))) != a)

        // whileActive: held while running, released when it finishes.
        let q2 = uniqueQueueName("ua")
        let b = try await jobs.enqueue(Marker(label: "b"), options: .init(queue: q2, unique: .init(key: "k", mode: .whileActive)))
        let running = try #require(try await takeDirectly(redis, queue: q2, worker: "w", lease: .seconds(30)).first)
        #expect(try await jobs.enqueue(Marker(label: "b"), options: .init(queue: q2, unique: .init(key: "k", mode: .whileActive))) == b)
        #expect(try await completeDirectly(redis, running, worker: "w") == 1)
        #expect(try await jobs.enqueue(Marker(label: "b"), options: .init(queue: q2, unique: .init(key: "k", mode: .whileActive))) != b)

        // idempotent: after completion a duplicate still gets the first id, until the TTL. Two keys, so that no step
        // races the clock: one whose TTL (60 s) cannot lapse during the test, one whose TTL (300 ms) is waited out.
        // (With one 600 ms TTL, a stall of the test under the suite's start-up load let the record lapse before the
        // duplicate enqueue, in CI.)
        let q3 = uniqueQueueName("ui")
        let kept = UniqueOptions(key: "wamid.ABC", mode: .idempotent, ttl: .seconds(60))
        let lapsing = UniqueOptions(key: "wamid.DEF", mode: .idempotent, ttl: .milliseconds(300))
        let c = try await jobs.enqueue(Marker(label: "c"), options: .init(queue: q3, unique: kept))
        let d = try await jobs.enqueue(Marker(label: "d"), options: .init(queue: q3, unique: lapsing))
        let done = try await takeDirectly(redis, queue: q3, worker: "w", lease: .seconds(30), count: 2)
        #expect(Set(done.map(\.id)) == [c, d])
        for job in done { #expect(try await completeDirectly(redis, job, worker: "w") == 1) }
        #expect(try await jobs.enqueue(Marker(label: "c"), options: .init(queue: q3, unique: kept)) == c)
        #expect(try await QueueInspector(redis: redis).counts(queue: q3)["ready"] == 0)
        try await Task.sleep(for: .milliseconds(400))
        #expect(try await jobs.enqueue(Marker(label: "c"), options: .init(queue: q3, unique: kept)) == c)
        #expect(try await jobs.enqueue(Marker(label: "d"), options: .init(queue: q3, unique: lapsing)) != d)
        #expect(try await QueueInspector(redis: redis).counts(queue: q3)["ready"] == 1)
        try await redis.shutdown()
    }
}
