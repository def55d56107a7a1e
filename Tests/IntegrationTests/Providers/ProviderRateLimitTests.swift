import Foundation
import Jobs
import SwitchboardAI
import SwitchboardPostgres
import SwitchboardProviders
import SwitchboardQueue
import SwitchboardRedis
import SwitchboardStore
import Testing

/// The most requests the fake server saw in any window of `width`.
private func busiestWindow(_ times: [ContinuousClock.Instant], width: Duration) -> Int {
    let sorted = times.sorted()
    var best = 0
    var start = 0
    for end in sorted.indices {
        while sorted[end] - sorted[start] >= width { start += 1 }
        best = max(best, end - start + 1)
    }
    return best
}

/// A provider key's requests-per-minute limit holds across worker processes: calls over it are rescheduled for when
/// they may go out (the queue core's limiter on Redis), not failed. The short form runs in the suite; the issue's
/// full form (300 calls, 60 a minute, about five minutes) runs with SWITCHBOARD_LONG_TESTS=1.
@Suite("Providers: a key's rate limit across worker processes", .serialized, .timeLimit(.minutes(8)))
struct ProviderRateLimitTests {
    @Test func callsFromTwoProcessesOf16SlotsStayUnderTheKeysLimitAndNoneFails() async throws {
        let long = ProcessInfo.processInfo.environment["SWITCHBOARD_LONG_TESTS"] == "1"
        // The limiter (GCRA, burst 1) spaces admissions at least `interval` apart; the server sees each call after its
        // request is built and a curl thread is free, which under the suite's load trails the admission by up to about
        // a second (the tokens test saw 0.9 s; CI read 12 arrivals in a 5 s window of 10 admissions). The checks allow
        // `jitter` for that delay: arrivals in a window of `window` come from admissions in one of `window + jitter`,
        // and the first-to-last span of arrivals is the admissions' span less at most `jitter`. Short form: 30 calls,
        // 2 a second, ~14.5 s of admissions (without the limiter, 32 slots would make them all within a second).
        let (calls, perMinute, window) = long ? (300, 60, Duration.seconds(60)) : (30, 120, Duration.seconds(5))
        let interval = Duration.seconds(60) / perMinute
        let jitter = Duration.milliseconds(1500)
        let limitPerWindow = perMinute * Int(window.components.seconds) / 60
        let allowedPerWindow = Int(((window + jitter) / interval).rounded(.up))  // points ≥ interval apart in [t, t + w)
        let server = FakeProviderServer()
        try await server.run { port in
            try await SharedSchema.shared.ensureMigrated()
            let db = PostgresClient(url: try TestEnvironment.databaseURL(), maxConnections: 2)
            let key = SecretBox.generateKey()
            let box = try SecretBox(base64Key: key)
            let tenant = try await TenantDirectory(db: db).createTenant(name: "rate \(UUID().uuidString.prefix(8))").id
            let store = ProviderSettingsStore(db: db, secretBox: box)
            try await store.setAccount(
                tenant: tenant, provider: "openai", api: .openAICompatible, baseURL: "http://127.0.0.1:\(port)",
                key: APIKey("sk-rate-\(UUID().uuidString)"), requestsPerMinute: perMinute)
            try await store.setModels(tenant: tenant, agent: .reply, model: ModelRef("openai:good")!, fallbacks: [])

            let redis = try makeRedis()
            let queue = uniqueQueueName("probe")
            let jobs = JobQueue(redis: redis)
            for _ in 0..<calls { _ = try await jobs.enqueue(ProbeModel(tenant: tenant), options: .init(queue: queue)) }
            let prices = TestEnvironment.packageRoot.appendingPathComponent("Models/prices.json").path
            let worker = try startWorkerProcess(
                ["--queues", queue, "--processes", "2", "--concurrency", "16", "--grace", "5s"],
                environment: ["SWITCHBOARD_SECRET_KEY": key, "SWITCHBOARD_PRICES": prices])
            defer { kill(worker.pid, SIGTERM) }
            try await expectEventually(timeout: long ? .seconds(400) : .seconds(60)) {
                let s = try await QueueInspector(redis: redis).stats(queue: queue)
                return s.processedToday >= Int64(calls) && s.ready + s.scheduled + s.active + s.retry == 0
            }
            kill(worker.pid, SIGTERM)
            #expect(await waitForChild(worker.pid) == 0)
            let stats = try await QueueInspector(redis: redis).stats(queue: queue)
            #expect(stats.dead == 0 && stats.retry == 0, "no job failed for the limit")
            let times = server.requests(model: "good").map(\.at)
            #expect(times.count == calls, "each probe called once")
            let busiest = busiestWindow(times, width: window)
            #expect(
                busiest <= allowedPerWindow, "busiest \(window) window: \(busiest) requests, limit \(limitPerWindow) (+ \(jitter) of arrival delay)")
            let span = times.max()! - times.min()!
            #expect(span >= interval * (calls - 1) - jitter, "\(calls) calls spaced \(interval) apart arrived within \(span)")
            print("provider rate limit \(perMinute)/min: \(calls) calls from 2 × 16 slots over \(span); busiest \(window) window \(busiest)")
            let recorded: Int64 = try await db.withTenant(tenant) { try $0.query("SELECT count(*)::bigint AS n FROM llm_calls")[0].decode("n") }
            #expect(recorded == Int64(calls))
            try await redis.shutdown()
            try await db.shutdown()
        }
    }
}
