import Foundation
@testable import SwitchboardQueue
import SwitchboardRedis
import Synchronization
import Testing

/// Weighted round-robin and strict priority across queues, on real Redis.
@Suite("Queue weights and priorities", .timeLimit(.minutes(2)))
struct QueueWeightTests {
    /// Enqueues `perQueue` markers on each queue, runs a worker with `configure`d options until `runs` jobs ran, and
    /// returns the queue of each run in the order they started.
    func runOrder(_ queues: [String], perQueue: Int, runs: Int, configure: (inout WorkerOptions) -> Void) async throws -> [String] {
        let redis = try makeRedis(connections: 10)
        let jobs = JobQueue(redis: redis)
        for queue in queues { try await jobs.enqueue(batch: (0..<perQueue).map { _ in Marker(label: queue) }, options: .init(queue: queue)) }
        let order = Mutex<[String]>([])
        var options = fastWorkerOptions(queue: queues[0], concurrency: 1)
        options.queues = queues
        configure(&options)
        try await withWorker(
            redis: redis, options: options,
            register: { r in
                r.register(Marker.self) { p, _ in order.withLock { $0.append(p.label) } }
            }
        ) { _ in
            try await expectEventually(timeout: .seconds(60)) { order.withLock { $0.count } >= runs }
        }
        for queue in queues { _ = try await QueueInspector(redis: redis).purge(queue: queue, state: "ready") }
        try await redis.shutdown()
        return Array(order.withLock { $0 }.prefix(runs))
    }

    @Test func weightsFiveTwoOneShareABackloggedWorkerFiveTwoOne() async throws {
        let tag = uniqueQueueName("w")
        let (critical, normal, low) = ("critical-\(tag)", "default-\(tag)", "low-\(tag)")
        // Each take draws its queue at random by weight, so the shares are a sample: over 240 runs the low queue's share
        // has a standard deviation of about 2 points, and two clean-clone runs read 19.6 % and 18.8 % against the 6-point
        // margin. 720 runs make the same margin about 5 deviations wide.
        let order = try await runOrder([critical, normal, low], perQueue: 800, runs: 720) {
            $0.queueWeights = [critical: 5, normal: 2, low: 1]
        }
        let share = { (q: String) in Double(order.filter { $0 == q }.count) / Double(order.count) }
        print(
            String(
                format: "weights 5:2:1 over the first %d jobs: critical %.1f%%, default %.1f%%, low %.1f%% (expected 62.5, 25.0, 12.5)",
                order.count, share(critical) * 100, share(normal) * 100, share(low) * 100))
        #expect(abs(share(critical) - 0.625) < 0.08)
        #expect(abs(share(normal) - 0.25) < 0.07)
        #expect(abs(share(low) - 0.125) < 0.06)
        #expect(order.prefix(40).contains(low), "the lowest weight still gets a turn early")
    }

    @Test func strictPriorityDrainsEachQueueBeforeTheNext() async throws {
        let tag = uniqueQueueName("s")
        let (critical, normal, low) = ("critical-\(tag)", "default-\(tag)", "low-\(tag)")
        let order = try await runOrder([critical, normal, low], perQueue: 40, runs: 120) { $0.strictPriority = true }
        #expect(order == Array(repeating: critical, count: 40) + Array(repeating: normal, count: 40) + Array(repeating: low, count: 40))
    }

    @Test func theWeightedOrderDrawsFirstPicksInProportion() {
        var options = WorkerOptions()
        options.queues = ["a", "b", "c"]
        options.queueWeights = ["a": 5, "b": 2]
        var generator = SystemRandomNumberGenerator()
        var first: [String: Int] = [:]
        for _ in 0..<16_000 {
            let order = options.queueOrder(using: &generator)
            #expect(Set(order) == ["a", "b", "c"])
            first[order[0], default: 0] += 1
        }
        #expect(abs(Double(first["a"]!) / 16_000 - 0.625) < 0.02)
        #expect(abs(Double(first["c"]!) / 16_000 - 0.125) < 0.02)
    }
}
