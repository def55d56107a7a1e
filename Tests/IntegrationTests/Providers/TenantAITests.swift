import Foundation
import Logging
import SwitchboardAI
import SwitchboardHTTP
import SwitchboardPostgres
import SwitchboardJSON
import SwitchboardProviders
@testable import SwitchboardQueue
import SwitchboardRedis
import SwitchboardStore
import Synchronization
import Testing

/// A job that asks the tenant's reply model twice and fails its first attempt after both calls.
struct AskTwice: JobParameters {
    static let jobName = "test-ask-twice"
    static var retryPolicy: RetryPolicy { RetryPolicy(maxAttempts: 3, base: .milliseconds(200), cap: .milliseconds(400)) }
    let tenant: UUID
}

private func tenantWithOpenAI(_ db: PostgresClient, port: Int, box: SecretBox) async throws -> UUID {
    try await SharedSchema.shared.ensureMigrated()
    let tenant = try await TenantDirectory(db: db).createTenant(name: "ai \(UUID().uuidString.prefix(8))").id
    let store = ProviderSettingsStore(db: db, secretBox: box)
    try await store.setAccount(
        tenant: tenant, provider: "openai", api: .openAICompatible, baseURL: "http://127.0.0.1:\(port)", key: APIKey("sk-test-SECRET-KEY"),
        requestsPerMinute: 600)
    try await store.setModels(tenant: tenant, agent: .reply, model: ModelRef("openai:good")!, fallbacks: [])
    return tenant
}

private let question = [ChatMessage(.user, "necesito 5 kg de tomate")]

@Suite("A tenant's models: usage recorded once, roll-up, budgets", .serialized, .timeLimit(.minutes(3)))
struct TenantAITests {
    @Test func aJobThatCallsTwiceAndIsRetriedOnceRecordsExactlyTheCallsMade() async throws {
        let server = FakeProviderServer()
        try await server.run { port in
            let db = PostgresClient(url: try TestEnvironment.databaseURL(), maxConnections: 4)
            let box = try SecretBox(base64Key: SecretBox.generateKey())
            let tenant = try await tenantWithOpenAI(db, port: port, box: box)
            let redis = try makeRedis()
            let http = HTTPClient(poolSize: 2)
            let prices = PriceTable(version: "test", models: ["openai:good": .init(input: 0.15, output: 0.60)])
            let ai = TenantAI(settings: ProviderSettingsStore(db: db, secretBox: box), prices: prices, http: http, redis: redis)
            let queue = uniqueQueueName("ai")
            let runs = Mutex(0)
            let registry = JobRegistry()
            registry.register(AskTwice.self) { p, context in
                let run = CallRun(jobID: context.id, attempt: context.attempt)
                for _ in 0..<2 {
                    _ = try await ai.ask(
                        tenant: p.tenant, agent: .reply, messages: question, as: IntentAnswer.self, run: run, confidence: { $0.confidence },
                        embedded: { IntentAnswer(intent: "embedded", confidence: 0.5) })
                }
                if runs.withLock({ r -> Int in
                    r += 1
                    return r
                }) == 1 {
                    throw TestFailure("the first attempt fails after its two calls")
                }
            }
            let worker = QueueWorker(
                redis: redis, registry: registry, options: fastWorkerOptions(queue: queue, concurrency: 1), logger: Logger(label: "ai"))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await worker.run() }
                let id = try await JobQueue(redis: redis).enqueue(AskTwice(tenant: tenant), options: .init(queue: queue))
                try await expectEventually(timeout: .seconds(20)) { runs.withLock { $0 } == 2 }
                try await Task.sleep(for: .milliseconds(500))
                worker.stop()
                try await group.waitForAll()
                let keys: [String] = try await db.withTenant(tenant) { conn in
                    try conn.query("SELECT call_key FROM llm_calls ORDER BY call_key").map { try $0.decode("call_key") }
                }
                #expect(keys == ["\(id):1:1", "\(id):1:2", "\(id):2:1", "\(id):2:2"])
            }
            #expect(server.requests(model: "good").count == 4)
            // Writing a call again records nothing.
            let again = try await UsageLedger(db: db).record(
                ModelCall(
                    key: try await db.withTenant(tenant) { try $0.query("SELECT call_key FROM llm_calls LIMIT 1")[0].decode("call_key") },
                    agent: .reply, model: ModelRef("openai:good")!, outcome: "ok"), tenant: tenant)
            #expect(again.recorded == false)
            // The roll-up equals the sum of the calls.
            let (calls, rollup): ((Int64, Int64, Int64), (Int64, Int64, Int64)) = try await db.withTenant(tenant) { conn in
                let c = try conn.query(
                    "SELECT count(*)::bigint AS n, sum(prompt_tokens + completion_tokens)::bigint AS t, sum(cost_micro_cents)::bigint AS c FROM llm_calls"
                )[0]
                let r = try conn.query(
                    "SELECT sum(requests)::bigint AS n, sum(prompt_tokens + completion_tokens)::bigint AS t, sum(cost_micro_cents)::bigint AS c FROM llm_usage_hourly"
                )[0]
                return ((try c.decode("n"), try c.decode("t"), try c.decode("c")), (try r.decode("n"), try r.decode("t"), try r.decode("c")))
            }
            #expect(calls == rollup)
            #expect(calls == (4, 4 * 27, 4 * Int64((20 * 0.15 + 7 * 0.60) * 100)))
            let report = try await UsageLedger(db: db).report(
                tenant: tenant, month: String(Date().formatted(.iso8601.year().month()).prefix(7)), by: .model)
            #expect(report.map(\.key) == ["openai:good"] && report.first?.requests == 4 && report.first?.averageConfidence == 0.93)
            try await http.shutdown()
            try await redis.shutdown()
            try await db.shutdown()
        }
    }

    @Test func budgetAlertsAreRaisedOnceAndPastTheBudgetNoProviderIsCalled() async throws {
        let server = FakeProviderServer()
        try await server.run { port in
            let db = PostgresClient(url: try TestEnvironment.databaseURL(), maxConnections: 4)
            let box = try SecretBox(base64Key: SecretBox.generateKey())
            let tenant = try await tenantWithOpenAI(db, port: port, box: box)
            // 27 cents a call: 20 prompt and 7 completion tokens at $10,000 per million.
            let prices = PriceTable(version: "test", models: ["openai:good": .init(input: 10_000, output: 10_000)])
            let ledger = UsageLedger(db: db)
            try await ledger.setBudget(Budget(monthlyCents: 100, policy: .embeddedOnly), tenant: tenant)
            let http = HTTPClient(poolSize: 2)
            let ai = TenantAI(settings: ProviderSettingsStore(db: db, secretBox: box), prices: prices, http: http, redis: nil)
            var models: [ModelRef] = []
            for _ in 0..<6 {
                let answer = try await ai.ask(
                    tenant: tenant, agent: .reply, messages: question, as: IntentAnswer.self, run: .adHoc(),
                    embedded: { IntentAnswer(intent: "embedded", confidence: 0.5) })
                models.append(answer.model)
            }
            // 27, 54, 81 (80 % alert), 108 (spent alert): then the embedded models only, with no call out.
            #expect(models.map(\.description) == ["openai:good", "openai:good", "openai:good", "openai:good", "embedded", "embedded"])
            #expect(server.requests(model: "good").count == 4)
            let alerts: [Int64] = try await db.withTenant(tenant) { conn in
                try conn.query("SELECT threshold FROM budget_alerts ORDER BY threshold").map { try $0.decode("threshold") }
            }
            #expect(alerts == [80, 100])
            let standing = try await ledger.standing(tenant: tenant)
            #expect(standing.spentCents == 108)

            try await ledger.setBudget(Budget(monthlyCents: 100, policy: .block), tenant: tenant)
            await #expect(throws: AIError.budgetBlocked(spentCents: 108, budgetCents: 100)) {
                _ = try await ai.ask(
                    tenant: tenant, agent: .reply, messages: question, as: IntentAnswer.self, run: .adHoc(),
                    embedded: { IntentAnswer(intent: "embedded", confidence: 0.5) })
            }
            // No hosted models configured for an agent: the embedded models, recorded at no cost.
            let intent = try await ai.ask(
                tenant: tenant, agent: .intent, messages: question, as: IntentAnswer.self, run: .adHoc(),
                embedded: { IntentAnswer(intent: "embedded", confidence: 0.5) })
            #expect(intent.model == .embedded)
            try await http.shutdown()
            try await db.shutdown()
        }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

@Suite("A tenant's models: a key's tokens-per-minute limit", .serialized, .timeLimit(.minutes(2)))
struct TenantAITokenLimitTests {
    @Test func callsAreSpacedByTheirEstimatedTokens() async throws {
        let server = FakeProviderServer()
        try await server.run { port in
            let db = PostgresClient(url: try TestEnvironment.databaseURL(), maxConnections: 2)
            let box = try SecretBox(base64Key: SecretBox.generateKey())
            let tenant = try await tenantWithOpenAI(db, port: port, box: box)
            // 600 tokens a minute is 10 a second; a call is charged ~19 (a 15-character prompt, 16 for the answer).
            try await ProviderSettingsStore(db: db, secretBox: box).setAccount(
                tenant: tenant, provider: "openai", api: .openAICompatible, baseURL: "http://127.0.0.1:\(port)", key: nil, requestsPerMinute: 600,
                tokensPerMinute: 600)
            let account = try #require(try await ProviderSettingsStore(db: db, secretBox: nil).accounts(tenant: tenant).first)
            #expect(account.requestsPerMinute == 600 && account.tokensPerMinute == 600 && account.hasKey, "the key is kept when none is given")
            let redis = try makeRedis()
            let http = HTTPClient(poolSize: 2)
            let ai = TenantAI(
                settings: ProviderSettingsStore(db: db, secretBox: box), prices: PriceTable(version: "test", models: [:]), http: http, redis: redis)
            func ask(maxTokens: Int) async throws {
                _ = try await ai.ask(
                    tenant: tenant, agent: .reply, messages: [ChatMessage(.user, "5 kg de tomates")], as: IntentAnswer.self, run: .adHoc(),
                    maxTokens: maxTokens, embedded: { IntentAnswer(intent: "embedded", confidence: 0.5) })
            }
            let start = ContinuousClock.now
            for _ in 0..<3 { try await ask(maxTokens: 16) }
            let span = ContinuousClock.now - start
            #expect(server.requests(model: "good").count == 3)
            // Admissions are spaced ~1.9 s (waited out in place, under the 2 s in-place limit), so the third is admitted
            // ~3.8 s after the first, which came no earlier than `start`. Measured at the caller, load can only lengthen
            // the span (arrival times at the server cannot bound it: a late first arrival shortens it by its delay).
            #expect(span >= .milliseconds(3500), "three calls took \(span)")
            // A call charged ~200 tokens makes the next wait ~20 s: past the in-place limit, the job would be rescheduled.
            try await Task.sleep(for: .milliseconds(2500))
            try await ask(maxTokens: 200)
            await #expect(throws: RetryLater.self) { try await ask(maxTokens: 200) }
            #expect(server.requests(model: "good").count == 4)
            try await http.shutdown()
            try await redis.shutdown()
            try await db.shutdown()
        }
    }
}
