import Foundation
@testable import SwitchboardQueue
import SwitchboardRedis
import Synchronization
import Testing

/// Jobs waiting for a busy lock or a full concurrency key are woken by the release instead of polling (#17 item 6).
@Suite("Waiting for a busy key", .serialized, .timeLimit(.minutes(3)))
struct KeyWaitTests {
    /// Five 1 s jobs under one lock: how long they took in all, and how often a job was taken only to find the lock busy.
    func run(waitForKeys: Bool, concurrencyKey: Bool = false) async throws -> (took: Duration, bounces: Int, overlaps: Int) {
        let redis = try makeRedis()
        let queue = uniqueQueueName("keywait")
        let key = "conversation:\(queue.suffix(8))"
        let spans = Mutex<[(start: ContinuousClock.Instant, end: ContinuousClock.Instant)]>([])
        var options = fastWorkerOptions(queue: queue, concurrency: 8)
        options.queues = [queue]
        options.waitForKeys = waitForKeys
        var processed = 0
        let clock = ContinuousClock()
        let started = clock.now
        try await withWorker(
            redis: redis, options: options,
            register: { registry in
                registry.register(Held.self) { p, _ in
                    let start = ContinuousClock.now
                    try await Task.sleep(for: .milliseconds(p.ms))
                    spans.withLock { $0.append((start, .now)) }
                }
            }
        ) { worker in
            let jobOptions = JobOptions(queue: queue, concurrency: concurrencyKey ? ConcurrencyLimit(key: key, limit: 1) : nil)
            let jobs = try (0..<5).map { _ in
                var job = try JobQueue.NewJob(Held(key: key, ms: 1000), options: jobOptions)
                if concurrencyKey { job.options.lock = nil }  // Held declares the lock; this run uses the key instead
                return job
            }
            try await JobQueue(redis: redis).enqueue(jobs: jobs)
            try await expectEventually(timeout: .seconds(60)) { spans.withLock { $0.count } == 5 }
            processed = worker.processedCount
        }
        let all = spans.withLock { $0 }.sorted { $0.start < $1.start }
        try await redis.shutdown()
        return (clock.now - started, processed - 5, zip(all, all.dropFirst()).filter { $0.end > $1.start }.count)
    }

    @Test(arguments: [false, true])
    func waitersAreWokenByTheReleaseNotByPolling(concurrencyKey: Bool) async throws {
        let polling = try await run(waitForKeys: false, concurrencyKey: concurrencyKey)
        let waiting = try await run(waitForKeys: true, concurrencyKey: concurrencyKey)
        print(
            "five 1 s jobs on one \(concurrencyKey ? "concurrency key" : "lock"): polling \(polling.took), \(polling.bounces) bounces; waiting \(waiting.took), \(waiting.bounces) bounces"
        )
        #expect(polling.overlaps == 0 && waiting.overlaps == 0, "two jobs held the key at once")
        // Each wait is 5 s before the safety timer: finishing in well under 4 × 5 s means the releases woke them.
        #expect(waiting.took < .seconds(12), "the waiters were not woken by the releases: \(waiting.took)")
        #expect(waiting.bounces * 2 <= polling.bounces, "waiting should bounce far less than polling")
    }
}
