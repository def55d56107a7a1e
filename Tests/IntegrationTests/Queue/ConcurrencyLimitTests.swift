import Foundation
@testable import SwitchboardQueue
import SwitchboardRedis
import Synchronization
import Testing

/// A job limited to `limit` at once per key, recording when it ran.
struct SlotLimited: KeyedSleep {
    static let jobName = "test-slot-limited"
    let key: String
    let limit: Int
    let ms: Int
    var concurrencyLimit: ConcurrencyLimit? { ConcurrencyLimit(key: key, limit: limit) }
}

/// Per-key concurrency with K > 1 (a semaphore); K = 1 is also covered by `PerKeyConcurrencyTests` through locks.
@Suite("Per-key concurrency (K > 1)", .serialized, .timeLimit(.minutes(2)))
struct ConcurrencyLimitTests {
    @Test func slotsAreNeverOverHandedUnderConcurrentAcquires() async throws {
        let redis = try makeRedis(connections: 8)
        let limit = ConcurrencyLimit(key: "sem-\(UUID().uuidString.prefix(8))", limit: 3)
        let owners = (0..<40).map { "owner-\($0)" }
        let granted = try await withThrowingTaskGroup(of: Bool.self) { group in
            for owner in owners { group.addTask { try await limit.acquire(owner: owner, ttl: .seconds(30), on: redis) } }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(granted == 3)
        let holders = try await redis.command(["ZRANGE", .string(limit.holdersKey), 0, -1]).array?.compactMap(\.string) ?? []
        #expect(holders.count == 3)
        // Re-acquiring extends; a non-holder cannot extend or release; releasing frees a slot for the next owner.
        #expect(try await limit.acquire(owner: holders[0], ttl: .seconds(30), on: redis))
        #expect(try await limit.extend(owner: "owner-x", ttl: .seconds(30), on: redis) == false)
        #expect(try await limit.release(owner: "owner-x", on: redis) == false)
        #expect(try await limit.release(owner: holders[0], on: redis))
        #expect(try await limit.acquire(owner: "owner-x", ttl: .seconds(30), on: redis))
        #expect(try await limit.acquire(owner: "owner-y", ttl: .seconds(30), on: redis) == false)
        // A lapsed hold frees its slot without anyone releasing it.
        let short = ConcurrencyLimit(key: limit.key + "-short", limit: 1)
        // (A TTL long enough that the second call cannot miss it under the suite's load.)
        #expect(try await short.acquire(owner: "gone", ttl: .milliseconds(1500), on: redis))
        #expect(try await short.acquire(owner: "next", ttl: .seconds(5), on: redis) == false)
        try await Task.sleep(for: .milliseconds(1600))
        #expect(try await short.extend(owner: "gone", ttl: .seconds(5), on: redis) == false)
        #expect(try await short.acquire(owner: "next", ttl: .seconds(5), on: redis))
        #expect(throws: QueueError.self) { try ConcurrencyLimit(key: "a{b}", limit: 2).validate() }
        #expect(throws: QueueError.self) { try ConcurrencyLimit(key: "ok", limit: 0).validate() }
        try await redis.shutdown()
    }

    @Test func ninetyJobsOverThreeKeysRunAtMostThreeAtOnceEach() async throws {
        let redis = try makeRedis(connections: 12)
        let queue = uniqueQueueName("conc")
        let runs = KeyedRuns()
        let keys = (0..<3).map { "tenant-\($0)-\(queue.suffix(6))" }
        try await runs.runAll((0..<90).map { SlotLimited(key: keys[$0 % 3], limit: 3, ms: 60) }, redis: redis, queue: queue)
        var most: [String: Int] = [:]
        for key in keys {
            #expect(runs.of(key).count == 30)
            most[key] = runs.mostAtOnce(key)
        }
        print("per-key K=3: 90 jobs over 3 keys on 16 slots, most running at once per key: \(most.values.sorted())")
        #expect(most.values.allSatisfy { $0 <= 3 }, "a key ran more than 3 at once: \(most)")
        #expect(most.values.contains(3), "the limit was never reached: slots are not being used")
        #expect(runs.all.allSatisfy { $0.attempt == 1 }, "waiting for a slot used up attempts")
        #expect(try await QueueInspector(redis: redis).stats(queue: queue).dead == 0)

        // The CLI stores the limit with the job, and refuses a bad one.
        let cli = try await runSwitchboard(["enqueue", "noop", "--queue", queue, "--concurrency-key", keys[0], "--concurrency-limit", "3"])
        #expect(cli.status == 0)
        let id = cli.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let stored = try await redis.command(["HGET", .string(QueueKeys(queue: queue).job(id)), "options"]).string ?? ""
        #expect(stored.contains(#""concurrency":{"#) && stored.contains(#""limit":3"#))
        let bad = try await runSwitchboard(["enqueue", "noop", "--concurrency-key", "k", "--concurrency-limit", "0"])
        #expect(bad.status == 2 && bad.stderr.contains("1-10000"))
        try await redis.shutdown()
    }

    @Test(.exclusive) func aSIGKILLedHolderFreesItsSlotWithinTheLease() async throws {
        let redis = try makeRedis()
        let queue = uniqueQueueName("conc-kill")
        let limit = ConcurrencyLimit(key: "tenant-\(queue.suffix(6))", limit: 2)
        let worker = try startWorkerProcess(["--queues", queue, "--processes", "1", "--concurrency", "2", "--lease", "3s"]).pid
        try await JobQueue(redis: redis).enqueue(
            name: "sleep", payloads: Array(repeating: Array(#"{"ms": 30000}"#.utf8), count: 2), options: .init(queue: queue, concurrency: limit))
        try await expectEventually { try await redis.command(["ZCARD", .string(limit.holdersKey)]).int == 2 }
        #expect(try await limit.acquire(owner: "test", ttl: .seconds(5), on: redis) == false, "both slots are held")
        let child = try #require(try await QueueInspector(redis: redis).workers().first { $0.queues == [queue] && !$0.dead })
        kill(worker, SIGKILL)  // the supervisor first, so no restarted child takes the jobs (and slots) again
        _ = await waitForChild(worker)
        let clock = ContinuousClock()
        kill(pid_t(child.pid), SIGKILL)
        let killed = clock.now
        try await expectEventually(timeout: .seconds(10)) { try await limit.acquire(owner: "test", ttl: .seconds(5), on: redis) }
        let freed = clock.now - killed
        print("per-key K=2: SIGKILLed holder's slot free \(freed) after the kill (lease 3 s)")
        #expect(freed <= .milliseconds(3500))
        try await redis.shutdown()
    }
}
