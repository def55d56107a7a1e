import Crypto
public import Foundation
public import Logging
public import SwitchboardHTTP
public import SwitchboardPostgres
public import SwitchboardProviders
public import SwitchboardQueue
public import SwitchboardRedis
import Synchronization

/// Which run a call belongs to, for its usage key: a job's id and attempt (a retried job records the calls it really
/// made, a re-recorded call nothing), and the call's index in the run.
public final class CallRun: Sendable {
    public let jobID: String
    public let attempt: Int
    public let conversation: UUID?
    private let counter = Mutex(0)

    public init(jobID: String, attempt: Int, conversation: UUID? = nil) {
        (self.jobID, self.attempt, self.conversation) = (jobID, attempt, conversation)
    }

    /// A run outside any job (a command): its own random id.
    public static func adHoc() -> CallRun { CallRun(jobID: "cli-\(UUID().uuidString.lowercased())", attempt: 1) }

    func nextKey() -> String {
        let n = counter.withLock { c -> Int in
            c += 1
            return c
        }
        return "\(jobID):\(attempt):\(n)"
    }
}

/// An answer and how it was reached.
public struct AIAnswer<T: Sendable>: Sendable {
    public var value: T
    public var model: ModelRef
    public var attempts: [FallbackChain.Attempt]
}

/// A tenant's models, used as the tenant configured them: the agent's chain of hosted models (each provider call under
/// the provider key's rate limit, shared by every worker through the queue core's limiter), the embedded models as the
/// last link, every call recorded once with its cost, and the monthly budget applied before any hosted call.
public final class TenantAI: Sendable {
    public let http: HTTPClient
    public let settings: ProviderSettingsStore
    public let ledger: UsageLedger
    public let prices: PriceTable
    public let breaker: CircuitBreaker
    /// For the rate limits across processes; nil applies none (one-off commands).
    public let redis: RedisClient?
    public let timeout: Duration
    let logger: Logger

    public init(
        settings: ProviderSettingsStore, prices: PriceTable, http: HTTPClient, redis: RedisClient?, breaker: CircuitBreaker = CircuitBreaker(),
        timeout: Duration = .seconds(30), logger: Logger = Logger(label: "switchboard.ai")
    ) {
        self.settings = settings
        self.ledger = UsageLedger(db: settings.db)
        self.prices = prices
        self.http = http
        self.redis = redis
        self.breaker = breaker
        self.timeout = timeout
        self.logger = logger
    }

    private let hostedAgents = Mutex<[UUID: (agents: Set<AgentKind>, at: ContinuousClock.Instant)]>([:])

    /// Whether the tenant has hosted models for `agent` (read at most every 10 seconds per tenant): a stage whose
    /// tenant has none uses its embedded path directly, with no call to record.
    public func hasHostedModels(tenant: UUID, agent: AgentKind) async throws -> Bool {
        let now = ContinuousClock.now
        if let cached = hostedAgents.withLock({ $0[tenant] }), now - cached.at < .seconds(10) { return cached.agents.contains(agent) }
        let agents = Set(try await settings.models(tenant: tenant).map(\.agent))
        hostedAgents.withLock { $0[tenant] = (agents, now) }
        return agents.contains(agent)
    }

    /// Asks the tenant's `agent` models for a `T`, falling back down the chain to `embedded`.
    /// - Throws: `RetryLater` when a provider or its rate limit says to wait (the job runs again then);
    ///   ``AIError/budgetBlocked(spentCents:budgetCents:)`` when the budget is spent under the `block` policy.
    public func ask<T: StructuredOutput>(
        tenant: UUID, agent: AgentKind, messages: [ChatMessage], as type: T.Type, run: CallRun, maxTokens: Int = 512,
        deadline: ContinuousClock.Instant? = nil, confidence: @escaping @Sendable (T) -> Double? = { _ in nil },
        embedded: @escaping @Sendable () async throws -> T
    ) async throws -> AIAnswer<T> {
        var hosted = try await settings.models(tenant: tenant).first { $0.agent == agent }.map { [$0.defaultModel] + $0.fallbackModels } ?? []
        if !hosted.isEmpty {
            let standing = try await ledger.standing(tenant: tenant)
            if let budget = standing.budget, budget.monthlyCents > 0 || budget.policy == .block, standing.spentCents >= budget.monthlyCents {
                if budget.policy == .block { throw AIError.budgetBlocked(spentCents: standing.spentCents, budgetCents: budget.monthlyCents) }
                logger.info("monthly budget spent: embedded models only", metadata: ["tenant": "\(tenant)", "agent": "\(agent.rawValue)"])
                hosted = []
            }
        }
        let endpoints = hosted.isEmpty ? [] : try await settings.endpoints(tenant: tenant, timeout: timeout)
        let client = ProviderClient(http: http, endpoints: endpoints.map(\.endpoint), breaker: breaker)
        let limits = Dictionary(
            endpoints.map { ($0.endpoint.name, (rpm: $0.requestsPerMinute, tpm: $0.tokensPerMinute, key: Self.limiterKey($0.endpoint))) },
            uniquingKeysWith: { a, _ in a })
        // What a call is charged under a tokens-per-minute limit before it is made: about four characters a token for the
        // prompt, and the most the answer may use.
        let estimatedTokens = messages.reduce(0) { $0 + $1.content.count } / 4 + maxTokens
        do {
            let answer = try await FallbackChain.run(
                hosted,
                call: { model -> T in
                    if let limit = limits[model.provider], let redis {
                        try await self.admit(RateLimit(key: limit.key, limit: limit.rpm, per: .seconds(60)), provider: model.provider, redis: redis)
                        if let tpm = limit.tpm {
                            try await self.admit(
                                RateLimit(key: limit.key + "-tokens", limit: tpm, per: .seconds(60)), weight: estimatedTokens,
                                provider: model.provider,
                                redis: redis)
                        }
                    }
                    let key = run.nextKey()
                    let started = ContinuousClock.now
                    do {
                        let result = try await client.chat(model, messages: messages, as: T.self, maxTokens: maxTokens, deadline: deadline)
                        try await self.record(
                            ModelCall(
                                key: key, conversation: run.conversation, jobID: run.jobID, agent: agent, model: model, usage: result.usage,
                                costMicroCents: self.prices.costMicroCents(model, usage: result.usage), latency: result.latency, outcome: "ok",
                                confidence: confidence(result.output)), tenant: tenant)
                        return result.output
                    } catch let error as ProviderError where error.kind != .circuitOpen {
                        // (An open circuit made no call, so there is nothing to record.)
                        try await self.record(
                            ModelCall(
                                key: key, conversation: run.conversation, jobID: run.jobID, agent: agent, model: model,
                                latency: ContinuousClock.now - started, outcome: Self.outcome(error.kind)), tenant: tenant)
                        throw error
                    }
                },
                embedded: {
                    let key = run.nextKey()
                    let started = ContinuousClock.now
                    let value = try await embedded()
                    try await self.record(
                        ModelCall(
                            key: key, conversation: run.conversation, jobID: run.jobID, agent: agent, model: .embedded,
                            latency: ContinuousClock.now - started, outcome: "ok", confidence: confidence(value)), tenant: tenant)
                    return value
                })
            return AIAnswer(value: answer.value, model: answer.model, attempts: answer.attempts)
        } catch let limited as RateLimitedChain {
            throw RetryLater(after: limited.retryAfter ?? .seconds(1), limited.description)
        }
    }

    /// The longest wait for the limiter spent in the job's slot. A job that makes several calls would otherwise be
    /// rescheduled between them and repeat its first call each time; past this, it is rescheduled (`RetryLater`).
    public static let inPlaceLimiterWait: Duration = .seconds(2)

    /// Admits one call under the provider key's limit: at once, after a short wait in place, or by rescheduling the job.
    private func admit(_ limit: RateLimit, weight: Int = 1, provider: String, redis: RedisClient) async throws {
        var waited = Duration.zero
        while true {
            let admission = try await limit.admit(on: redis, weight: weight)
            if admission.admittedAtMicros != nil { return }
            guard waited + admission.wait <= Self.inPlaceLimiterWait else {
                throw RetryLater(
                    after: admission.wait, "\(provider) is at its limit of \(limit.limit) \(weight > 1 ? "tokens" : "requests") a minute")
            }
            try await Task.sleep(for: admission.wait + .milliseconds(1))
            waited += admission.wait
        }
    }

    private func record(_ call: ModelCall, tenant: UUID) async throws {
        let (_, alerts) = try await ledger.record(call, tenant: tenant)
        for alert in alerts {
            logger.warning(
                alert == .spent ? "monthly AI budget spent" : "monthly AI budget 80 % spent",
                metadata: ["tenant": "\(tenant)", "budget.threshold": "\(alert.rawValue)"])
        }
    }

    /// The limiter's key: the provider and a hash of its key, so tenants sharing a key share its limit.
    static func limiterKey(_ endpoint: ProviderEndpoint) -> String {
        let digest = SHA256.hash(data: Array((endpoint.baseURL + "|" + (endpoint.apiKey?.reveal() ?? "")).utf8))
        return "llm-\(endpoint.name)-" + digest.prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    static func outcome(_ kind: ProviderError.Kind) -> String {
        switch kind {
        case .rateLimited: "rateLimited"
        case .serverError: "serverError"
        case .unauthorized: "unauthorized"
        case .rejected: "rejected"
        case .timedOut: "timedOut"
        case .unreachable: "unreachable"
        case .invalidOutput: "invalidOutput"
        case .malformedResponse: "malformedResponse"
        case .circuitOpen: "circuitOpen"
        case .cancelled: "cancelled"
        }
    }
}
