import Foundation
import Logging
@testable import SwitchboardQueue
import SwitchboardRedis
import Synchronization
import Testing

/// A job under a rate limit shared by every worker.
struct Limited: JobParameters {
    static let jobName = "limited"
    let key: String
    var rateLimit: RateLimit? { RateLimit(key: key, limit: 50, per: .seconds(1)) }
}

@Suite("Rate limits", .serialized, .timeLimit(.minutes(3)))
struct RateLimitTests {
    @Test(.exclusive) func fiftyPerSecondOverAThousandJobsOnTwoWorkersOfSixteenSlots() async throws {
        let redis = try makeRedis(connections: 16)
        let queue = uniqueQueueName("rate")
        let key = "llm-\(queue.suffix(8))"
        struct Start: Sendable {
            let at: Int64
            let attempt: Int
        }
        let starts = Mutex<[Start]>([])
        func worker() -> QueueWorker {
            let registry = JobRegistry()
            registry.register(Limited.self) { _, context in
                starts.withLock { $0.append(Start(at: context.rateAdmittedAtMicros ?? -1, attempt: context.attempt)) }
            }
            var options = fastWorkerOptions(queue: queue, concurrency: 16)
            options.workerID = "rate-\(UUID().uuidString.prefix(6))"
            return QueueWorker(redis: redis, registry: registry, options: options, logger: Logger(label: "rate-worker"))
        }
        let workers = [worker(), worker()]
        try await JobQueue(redis: redis).enqueue(batch: (0..<1000).map { _ in Limited(key: key) }, options: .init(queue: queue))
        let clock = ContinuousClock()
        let began = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in workers { group.addTask { try await w.run() } }
            try await expectEventually(timeout: .seconds(60)) { starts.withLock { $0.count } == 1000 }
            for w in workers { w.stop() }
            try await group.waitForAll()
        }
        let took = clock.now - began
        let all = starts.withLock { $0 }
        let times = all.map(\.at).sorted()
        var busiest = 0
        var lo = 0
        for hi in times.indices {  // the most admissions in any window [t, t + 1 s)
            while times[hi] - times[lo] >= 1_000_000 { lo += 1 }
            busiest = max(busiest, hi - lo + 1)
        }
        let span = Double(times.last! - times.first!) / 1e6
        print(
            "rate limit 50/s: 1,000 jobs on 2 × 16 slots took \(took) (first to last admission \(span) s); busiest 1 s window: \(busiest); attempts above 1: \(all.filter { $0.attempt > 1 }.count)"
        )
        #expect(took >= .seconds(19))
        #expect(span >= 19)
        #expect(busiest <= 50)
        #expect(all.allSatisfy { $0.attempt == 1 }, "waiting for the limit used up attempts")
        #expect(times.first! > 0)
        try await redis.shutdown()
    }

    @Test func aBurstAllowsThatManyAtOnceThenTheRate() async throws {
        let redis = try makeRedis()
        let limit = RateLimit(key: "burst-\(UUID().uuidString.prefix(8))", limit: 10, per: .seconds(1), burst: 5)
        var admitted = 0
        for _ in 0..<8 where try await limit.admit(on: redis).admittedAtMicros != nil { admitted += 1 }
        #expect(admitted == 5)
        let wait = try await limit.admit(on: redis).wait
        #expect(wait > .zero && wait <= .milliseconds(100))
        #expect(throws: QueueError.self) { try RateLimit(key: "x", limit: 0, per: .seconds(1)).validate() }
        try await redis.shutdown()
    }
}
