import SwitchboardQueue
import SwitchboardRedis
import Synchronization
import Testing

/// When each job of a keyed test ran: tests of locks and concurrency limits record every run, then check how many
/// runs of one key overlapped.
final class KeyedRuns: Sendable {
    struct Run: Sendable {
        let key: String
        let start: ContinuousClock.Instant
        let end: ContinuousClock.Instant
        let attempt: Int
    }

    private let runs = Mutex<[Run]>([])

    /// Sleeps `ms` as the job's work and records the run.
    func work(key: String, ms: Int, attempt: Int) async throws {
        let start = ContinuousClock.now
        try await Task.sleep(for: .milliseconds(ms))
        runs.withLock { $0.append(Run(key: key, start: start, end: .now, attempt: attempt)) }
    }

    var count: Int { runs.withLock { $0.count } }
    var all: [Run] { runs.withLock { $0 } }

    func of(_ key: String) -> [Run] { all.filter { $0.key == key } }

    /// The most runs of `key` that were running at once (overlapping some run's start).
    func mostAtOnce(_ key: String) -> Int {
        Self.mostAtOnce(of(key))
    }

    /// The most runs of any key that were running at once.
    var mostAtOnceOverall: Int { Self.mostAtOnce(all) }

    private static func mostAtOnce(_ runs: [Run]) -> Int {
        runs.map { run in runs.filter { $0.start <= run.start && run.start < $0.end }.count }.max() ?? 0
    }
}

/// A test job that sleeps `ms` under a key (a lock, a concurrency limit).
protocol KeyedSleep: JobParameters {
    var key: String { get }
    var ms: Int { get }
}

extension KeyedRuns {
    /// Runs `jobs` on an in-process worker with 16 slots on `queue`, recording each run, until every one has run.
    func runAll<P: KeyedSleep>(_ jobs: [P], redis: RedisClient, queue: String) async throws {
        try await withWorker(
            redis: redis, options: fastWorkerOptions(queue: queue, concurrency: 16),
            register: { r in r.register(P.self) { p, context in try await self.work(key: p.key, ms: p.ms, attempt: context.attempt) } }
        ) { _ in
            try await JobQueue(redis: redis).enqueue(batch: jobs, options: .init(queue: queue))
            try await expectEventually(timeout: .seconds(60)) { self.count == jobs.count }
        }
    }
}
