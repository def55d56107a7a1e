import Foundation
@testable import SwitchboardQueue
import SwitchboardRedis
import Synchronization
import Testing

/// Debounced enqueues on real Redis, with a worker running the jobs.
@Suite("Debounce", .timeLimit(.minutes(2)))
struct DebounceTests {
    /// Runs a worker recording (label, time) of each Marker it runs while `body` enqueues.
    func run(_ queue: String, _ body: (JobQueue) async throws -> Void, until: @escaping @Sendable ([(String, ContinuousClock.Instant)]) -> Bool)
        async throws -> [(label: String, at: ContinuousClock.Instant)]
    {
        let redis = try makeRedis()
        let runs = Mutex<[(String, ContinuousClock.Instant)]>([])
        try await withWorker(
            redis: redis, options: fastWorkerOptions(queue: queue),
            register: { r in
                r.register(Marker.self) { p, _ in runs.withLock { $0.append((p.label, .now)) } }
            }
        ) { _ in
            try await body(JobQueue(redis: redis))
            try await expectEventually(timeout: .seconds(10)) { until(runs.withLock { $0 }) }
            try await Task.sleep(for: .milliseconds(300))  // and nothing more arrives
        }
        try await redis.shutdown()
        return runs.withLock { $0 }.map { (label: $0.0, at: $0.1) }
    }

    @Test func tenEnqueues300msApartRunOnceAboutAWindowAfterTheLast() async throws {
        let queue = uniqueQueueName("debounce")
        // A 2 s window for enqueues 300 ms apart: a stall of the test's own loop under the suite's load (one of 1.6 s
        // was seen) must not split the burst.
        let debounce = DebounceOptions(key: "conversation:1", window: .seconds(2), maxWait: .seconds(20))
        let stamps = Mutex<[ContinuousClock.Instant]>([])
        let ids = Mutex<Set<String>>([])
        let runs = try await run(
            queue,
            { jobs in
                for i in 0..<10 {
                    // Stamped before the call: the server sets the due time during it, so a stall of this loop after
                    // the call returns cannot make the run look early.
                    let sent = ContinuousClock.now
                    let id = try await jobs.enqueue(Marker(label: "\(i)"), options: .init(queue: queue, debounce: debounce))
                    ids.withLock { _ = $0.insert(id) }
                    stamps.withLock { $0.append(sent) }
                    if i < 9 { try await Task.sleep(for: .milliseconds(300)) }
                }
            }, until: { !$0.isEmpty })
        let times = stamps.withLock { $0 }
        let widest = zip(times, times.dropFirst()).map { $1 - $0 }.max() ?? .zero
        #expect(runs.count == 1, "widest gap between enqueues: \(widest)")
        #expect(runs.first?.label == "9", "the job runs with the last parameters")
        #expect(ids.withLock { $0.count } == 1, "every enqueue joined the one pending job (widest gap \(widest))")
        let after = runs[0].at - times.last!
        print("debounce: ran once, \(after) after the last of 10 enqueues (window 2 s)")
        // Not before the window; the upper bound leaves room for a stalled worker under the suite's load, and is
        // still far from the 20 s max wait. (The precision of due times is read from `switchboard bench`.)
        #expect(after >= .milliseconds(1950) && after < .milliseconds(4000))
    }

    @Test func aSteadyStreamRunsAboutEveryMaxWaitNeverMoreOften() async throws {
        let queue = uniqueQueueName("debounce-stream")
        // Window 2 s for enqueues 100 ms apart: only a stall of the test's own loop longer than that (under the suite's
        // load one of over 1 s was seen) would end a burst before its max wait.
        let debounce = DebounceOptions(key: "conversation:2", window: .seconds(2), maxWait: .seconds(3))
        let started = ContinuousClock.now
        let runs = try await run(
            queue,
            { jobs in
                for i in 0..<100 {
                    try await jobs.enqueue(Marker(label: "\(i)"), options: .init(queue: queue, debounce: debounce))
                    try await Task.sleep(until: started + .milliseconds(100 * (i + 1)))
                }
            }, until: { $0.last?.0 == "99" })
        let offsets = runs.map { ($0.at - started) }
        let gaps = zip(offsets, offsets.dropFirst()).map { $1 - $0 }
        print(
            "debounce stream: runs at \(offsets.map { String(format: "%.2f s", Double($0.components.attoseconds) / 1e18 + Double($0.components.seconds)) })"
        )
        // 10 s of enqueues: max wait releases one about every 3 s while they keep coming, then the window one more
        // (3 when a slow start under the suite's load lets the last enqueue join the third release).
        #expect((3...5).contains(runs.count))
        #expect(gaps.dropLast().allSatisfy { $0 >= .milliseconds(2800) }, "ran more often than the max wait: \(gaps)")
        #expect(runs.last?.label == "99")
    }

    @Test func concurrentEnqueuesWithOneKeyMakeOneJob() async throws {
        let redis = try makeRedis(connections: 8)
        let queue = uniqueQueueName("debounce-race")
        let debounce = DebounceOptions(key: "race", window: .seconds(30), maxWait: .seconds(60))
        let ids = try await withThrowingTaskGroup(of: String.self) { group in
            for i in 0..<200 {
                group.addTask { try await JobQueue(redis: redis).enqueue(Marker(label: "\(i)"), options: .init(queue: queue, debounce: debounce)) }
            }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(ids.count == 1)
        #expect(try await QueueInspector(redis: redis).stats(queue: queue).scheduled == 1)
        let cli = try await runSwitchboard(["enqueue", "noop", "--queue", queue, "--debounce", "race", "--window", "30s", "--max-wait", "60s"])
        #expect(cli.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == ids.first)
        #expect(try await runSwitchboard(["enqueue", "noop", "--debounce", "k", "--window", "5s", "--max-wait", "1s"]).status == 2)
        try await redis.shutdown()
    }

    @Test func collectHandsTheHandlerEveryParameterOfTheBurstInOrder() async throws {
        let redis = try makeRedis(connections: 8)
        let queue = uniqueQueueName("debounce-collect")
        let debounce = DebounceOptions(key: "turn:\(queue)", window: .seconds(2), maxWait: .seconds(10), collect: true)
        let seen = Mutex<[(own: String, collected: [String])]>([])
        try await withWorker(
            redis: redis, options: fastWorkerOptions(queue: queue),
            register: { r in
                r.register(Marker.self) { p, context in
                    let all = try context.collected(Marker.self).map(\.label)
                    seen.withLock { $0.append((p.label, all)) }
                }
            }
        ) { _ in
            for i in 0..<5 {
                try await JobQueue(redis: redis).enqueue(Marker(label: "m\(i)"), options: .init(queue: queue, debounce: debounce))
            }
            // A second burst after the first ran starts a new collection.
            try await expectEventually { seen.withLock { $0.count } == 1 }
            try await JobQueue(redis: redis).enqueue(Marker(label: "n0"), options: .init(queue: queue, debounce: debounce))
            try await expectEventually { seen.withLock { $0.count } == 2 }
            // Without collect, the handler gets an empty list.
            try await JobQueue(redis: redis).enqueue(Marker(label: "plain"), options: .init(queue: queue))
            try await expectEventually { seen.withLock { $0.count } == 3 }
        }
        let runs = seen.withLock { $0 }
        #expect(runs.first?.own == "m4")
        #expect(runs.first?.collected == ["m0", "m1", "m2", "m3", "m4"])
        #expect(runs.dropFirst().first?.collected == ["n0"])
        #expect(runs.last?.own == "plain" && runs.last?.collected == [])
        try await redis.shutdown()
    }
}
