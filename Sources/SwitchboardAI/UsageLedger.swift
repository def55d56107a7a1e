public import Foundation
public import SwitchboardPostgres
public import SwitchboardProviders
import SwitchboardQueue
import SwitchboardStore

/// One call to a model, as recorded.
public struct ModelCall: Sendable, Codable, Hashable {
    /// Unique per call: the job id, its attempt and the call's index in the run ("job:3:1").
    public var key: String
    public var conversation: UUID?
    public var jobID: String?
    public var agent: AgentKind
    public var model: ModelRef
    public var usage: TokenUsage
    public var costMicroCents: Int64
    public var latency: Duration
    /// "ok", or the error kind ("timedOut", "invalidOutput", …).
    public var outcome: String
    public var confidence: Double?

    public init(
        key: String, conversation: UUID? = nil, jobID: String? = nil, agent: AgentKind, model: ModelRef, usage: TokenUsage = TokenUsage(),
        costMicroCents: Int64 = 0, latency: Duration = .zero, outcome: String, confidence: Double? = nil
    ) {
        (self.key, self.conversation, self.jobID, self.agent, self.model, self.usage) = (key, conversation, jobID, agent, model, usage)
        (self.costMicroCents, self.latency, self.outcome, self.confidence) = (costMicroCents, latency, outcome, confidence)
    }
}

/// A tenant's monthly budget for hosted models.
public struct Budget: Sendable, Codable, Hashable {
    public enum Policy: String, Sendable, Codable {
        case embeddedOnly = "embedded-only"
        case block
    }
    public var monthlyCents: Int64
    public var policy: Policy
    public init(monthlyCents: Int64, policy: Policy = .embeddedOnly) { (self.monthlyCents, self.policy) = (monthlyCents, policy) }
}

/// Records every model call once, keeps the hourly roll-up in the same transaction, and raises each budget alert
/// (80 % and 100 % of the month) once.
public struct UsageLedger: Sendable {
    public let db: PostgresClient
    public init(db: PostgresClient) { self.db = db }

    /// Budget alerts raised by a record.
    public enum Alert: Int, Sendable, Codable {
        case eightyPercent = 80
        case spent = 100
    }

    /// Records `call` unless a call with its key is recorded; returns whether it was written and the alerts it raised.
    @discardableResult
    public func record(_ call: ModelCall, tenant: UUID, at now: Date = Date()) async throws -> (recorded: Bool, alerts: [Alert]) {
        try await db.withTenant(tenant) { conn in
            let inserted = try conn.query(
                """
                INSERT INTO llm_calls (tenant_id, call_key, conversation_id, job_id, agent, provider, model, prompt_tokens, completion_tokens,
                                       cost_micro_cents, latency_ms, outcome, confidence, created_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
                ON CONFLICT (tenant_id, call_key) DO NOTHING RETURNING call_key
                """,
                [
                    .uuid(tenant), .text(call.key), call.conversation.map(PostgresValue.uuid) ?? .null, call.jobID.map(PostgresValue.text) ?? .null,
                    .text(call.agent.rawValue), .text(call.model.provider), .text(call.model.description), .int(Int64(call.usage.prompt)),
                    .int(Int64(call.usage.completion)), .int(call.costMicroCents), .int(call.latency.milliseconds), .text(call.outcome),
                    call.confidence.map(PostgresValue.double) ?? .null, .timestamp(now),
                ])
            guard !inserted.isEmpty else { return (false, []) }
            try conn.execute(
                """
                INSERT INTO llm_usage_hourly (tenant_id, hour, agent, model, requests, successful, prompt_tokens, completion_tokens,
                                              cost_micro_cents, latency_ms_total, confidence_total, confidence_count)
                VALUES ($1, date_trunc('hour', $2::timestamptz), $3, $4, 1, $5, $6, $7, $8, $9, $10, $11)
                ON CONFLICT (tenant_id, hour, agent, model) DO UPDATE SET
                    requests = llm_usage_hourly.requests + 1, successful = llm_usage_hourly.successful + excluded.successful,
                    prompt_tokens = llm_usage_hourly.prompt_tokens + excluded.prompt_tokens,
                    completion_tokens = llm_usage_hourly.completion_tokens + excluded.completion_tokens,
                    cost_micro_cents = llm_usage_hourly.cost_micro_cents + excluded.cost_micro_cents,
                    latency_ms_total = llm_usage_hourly.latency_ms_total + excluded.latency_ms_total,
                    confidence_total = llm_usage_hourly.confidence_total + excluded.confidence_total,
                    confidence_count = llm_usage_hourly.confidence_count + excluded.confidence_count
                """,
                [
                    .uuid(tenant), .timestamp(now), .text(call.agent.rawValue), .text(call.model.description), .int(call.outcome == "ok" ? 1 : 0),
                    .int(Int64(call.usage.prompt)), .int(Int64(call.usage.completion)), .int(call.costMicroCents), .int(call.latency.milliseconds),
                    .double(call.confidence ?? 0), .int(call.confidence == nil ? 0 : 1),
                ])
            guard call.costMicroCents > 0, let budget = try Self.budget(conn) else { return (true, []) }
            let month = Self.month(now)
            let spent = try Self.spentCents(month: month, conn: conn)
            var raised: [Alert] = []
            for alert in [Alert.eightyPercent, .spent] where budget.monthlyCents > 0 && spent * 100 >= budget.monthlyCents * Int64(alert.rawValue) {
                let new = try conn.query(
                    """
                    INSERT INTO budget_alerts (tenant_id, month, threshold, spent_cents) VALUES ($1, $2, $3, $4)
                    ON CONFLICT DO NOTHING RETURNING threshold
                    """, [.uuid(tenant), .text(month), .int(Int64(alert.rawValue)), .int(spent)])
                if !new.isEmpty { raised.append(alert) }
            }
            return (true, raised)
        }
    }

    static func month(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month], from: date)
        return String(format: "%04d-%02d", c.year ?? 1970, c.month ?? 1)
    }

    static func budget(_ conn: PostgresConnection) throws -> Budget? {
        try conn.query("SELECT monthly_cents, over_policy FROM tenant_budgets").first.map {
            Budget(monthlyCents: try $0.decode("monthly_cents"), policy: Budget.Policy(rawValue: try $0.decode("over_policy")) ?? .embeddedOnly)
        }
    }

    /// Whole cents spent in a UTC month ("2026-12").
    static func spentCents(month: String, conn: PostgresConnection) throws -> Int64 {
        let micro: Int64 =
            try conn.query(
                "SELECT coalesce(sum(cost_micro_cents), 0)::bigint AS micro FROM llm_usage_hourly WHERE to_char(hour AT TIME ZONE 'UTC', 'YYYY-MM') = $1",
                [.text(month)]
            ).first?.decode("micro") ?? 0
        return micro / 1_000_000
    }

    public func budget(tenant: UUID) async throws -> Budget? { try await db.withTenant(tenant) { try Self.budget($0) } }

    public func setBudget(_ budget: Budget, tenant: UUID) async throws {
        try await db.withTenant(tenant) { conn in
            try conn.execute(
                """
                INSERT INTO tenant_budgets (tenant_id, monthly_cents, over_policy) VALUES ($1, $2, $3)
                ON CONFLICT (tenant_id) DO UPDATE SET monthly_cents = excluded.monthly_cents, over_policy = excluded.over_policy, updated_at = now()
                """, [.uuid(tenant), .int(budget.monthlyCents), .text(budget.policy.rawValue)])
        }
    }

    /// Spent this month and the budget: whether hosted calls may go out.
    public func standing(tenant: UUID, at now: Date = Date()) async throws -> (spentCents: Int64, budget: Budget?) {
        try await db.withTenant(tenant) { conn in (try Self.spentCents(month: Self.month(now), conn: conn), try Self.budget(conn)) }
    }

    /// One row of a usage report.
    public struct ReportRow: Sendable, Codable, Hashable {
        public var key: String
        public var requests: Int64
        public var successful: Int64
        public var promptTokens: Int64
        public var completionTokens: Int64
        public var costCents: Double
        public var averageLatencyMs: Double
        public var averageConfidence: Double?
    }

    public enum Grouping: String, Sendable, CaseIterable { case day, agent, model }

    /// A month's usage from the hourly roll-up, by day, agent or model.
    public func report(tenant: UUID, month: String, by grouping: Grouping) async throws -> [ReportRow] {
        let key =
            switch grouping {
            case .day: "to_char(hour AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
            case .agent: "agent"
            case .model: "model"
            }
        return try await db.withTenant(tenant) { conn in
            try conn.query(
                """
                SELECT \(key) AS key, sum(requests)::bigint AS requests, sum(successful)::bigint AS successful,
                       sum(prompt_tokens)::bigint AS prompt, sum(completion_tokens)::bigint AS completion,
                       sum(cost_micro_cents)::float8 / 1000000 AS cost, sum(latency_ms_total)::float8 / greatest(sum(requests), 1) AS latency,
                       CASE WHEN sum(confidence_count) > 0 THEN sum(confidence_total) / sum(confidence_count) END AS confidence
                FROM llm_usage_hourly WHERE to_char(hour AT TIME ZONE 'UTC', 'YYYY-MM') = $1
                GROUP BY 1 ORDER BY 1
                """, [.text(month)]
            ).map { row in
                ReportRow(
                    key: try row.decode("key"), requests: try row.decode("requests"), successful: try row.decode("successful"),
                    promptTokens: try row.decode("prompt"), completionTokens: try row.decode("completion"), costCents: try row.decode("cost"),
                    averageLatencyMs: try row.decode("latency"), averageConfidence: try row.decodeIfPresent("confidence"))
            }
        }
    }
}
