public import FoundationEssentials
public import SwitchboardPostgres
import SwitchboardStore
import Synchronization

/// A tenant's knobs for the turn pipeline (table `pipeline_settings`; a tenant without a row has the defaults).
public struct PipelineSettings: Sendable, Hashable, Codable {
    /// A burst ends when the customer has been quiet this long…
    public var burstWindow: Duration = .seconds(5)
    /// …or this long after its first message, however the customer keeps writing.
    public var burstMaxWait: Duration = .seconds(20)
    /// Message types that end a burst by themselves: a WhatsApp catalogue order, a button or list reply.
    public var flushTypes: Set<String> = ["order", "interactive", "button"]
    /// A turn understood at or above this confidence may be answered automatically (the spec's 95 %).
    public var confidenceThreshold: Double = 0.95
    /// Intents always handed to a person.
    public var alwaysHuman: Set<String> = []
    /// A conversation quiet this long closes; its key facts stay with the customer (the spec's 30 minutes).
    public var contextIdle: Duration = .seconds(1800)
    /// A conversation is summarised when it has more messages than this since its last summary.
    public var summaryEvery: Int = 20
    /// Raw provider payloads are deleted after this many days.
    public var payloadRetentionDays: Int = 90

    public init() {}

    enum CodingKeys: String, CodingKey {
        case burstWindowMs = "burst_window_ms"
        case burstMaxWaitMs = "burst_max_wait_ms"
        case flushTypes = "flush_types"
        case confidenceThreshold = "confidence_threshold"
        case alwaysHuman = "always_human"
        case contextIdleSeconds = "context_idle_seconds"
        case summaryEvery = "summary_every"
        case payloadRetentionDays = "payload_retention_days"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        burstWindow = .milliseconds(try c.decode(Int64.self, forKey: .burstWindowMs))
        burstMaxWait = .milliseconds(try c.decode(Int64.self, forKey: .burstMaxWaitMs))
        flushTypes = try c.decode(Set<String>.self, forKey: .flushTypes)
        confidenceThreshold = try c.decode(Double.self, forKey: .confidenceThreshold)
        alwaysHuman = try c.decode(Set<String>.self, forKey: .alwaysHuman)
        contextIdle = .seconds(try c.decodeIfPresent(Int64.self, forKey: .contextIdleSeconds) ?? 1800)
        summaryEvery = try c.decodeIfPresent(Int.self, forKey: .summaryEvery) ?? 20
        payloadRetentionDays = try c.decodeIfPresent(Int.self, forKey: .payloadRetentionDays) ?? 90
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(burstWindow.wholeMilliseconds, forKey: .burstWindowMs)
        try c.encode(burstMaxWait.wholeMilliseconds, forKey: .burstMaxWaitMs)
        try c.encode(flushTypes.sorted(), forKey: .flushTypes)
        try c.encode(confidenceThreshold, forKey: .confidenceThreshold)
        try c.encode(alwaysHuman.sorted(), forKey: .alwaysHuman)
        try c.encode(contextIdle.components.seconds, forKey: .contextIdleSeconds)
        try c.encode(summaryEvery, forKey: .summaryEvery)
        try c.encode(payloadRetentionDays, forKey: .payloadRetentionDays)
    }
}

extension Duration {
    /// Whole milliseconds (rounded down).
    public var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

/// Reads and writes tenants' pipeline settings. Reads are cached per process for ``ttl`` (ingest reads them for every
/// message); a change reaches every worker within that time.
public final class PipelineSettingsStore: Sendable {
    public let db: PostgresClient
    public let ttl: Duration
    private let cache = Mutex<[UUID: (settings: PipelineSettings, at: ContinuousClock.Instant)]>([:])

    public init(db: PostgresClient, ttl: Duration = .seconds(10)) {
        self.db = db
        self.ttl = ttl
    }

    /// The tenant's settings (the defaults when it has none), at most ``ttl`` old.
    public func settings(tenant: UUID) async throws -> PipelineSettings {
        let now = ContinuousClock.now
        if let cached = cache.withLock({ $0[tenant] }), now - cached.at < ttl { return cached.settings }
        let settings = try await db.withTenant(tenant) { conn in try Self.load(conn) }
        cache.withLock { $0[tenant] = (settings, now) }
        return settings
    }

    /// The settings as stored, read in the caller's transaction (under the tenant's scope).
    public static func load(_ conn: PostgresConnection) throws -> PipelineSettings {
        guard
            let row = try conn.query(
                """
                SELECT burst_window_ms, burst_max_wait_ms, flush_types, confidence_threshold::float8 AS threshold, always_human,
                       context_idle_seconds, summary_every, payload_retention_days
                FROM pipeline_settings
                """
            ).first
        else { return PipelineSettings() }
        var s = PipelineSettings()
        s.burstWindow = .milliseconds(Int64(try row.decode("burst_window_ms", as: Int.self)))
        s.burstMaxWait = .milliseconds(Int64(try row.decode("burst_max_wait_ms", as: Int.self)))
        s.flushTypes = Set(try row.decode("flush_types", as: [String].self))
        s.confidenceThreshold = (try row.decode("threshold", as: Double.self) * 10000).rounded() / 10000
        s.alwaysHuman = Set(try row.decode("always_human", as: [String].self))
        s.contextIdle = .seconds(Int64(try row.decode("context_idle_seconds", as: Int.self)))
        s.summaryEvery = try row.decode("summary_every")
        s.payloadRetentionDays = try row.decode("payload_retention_days")
        return s
    }

    /// Stores the tenant's settings (every field) and forgets this process's cached copy.
    public func save(_ s: PipelineSettings, tenant: UUID) async throws {
        guard s.burstWindow > .zero, s.burstMaxWait >= s.burstWindow, s.burstMaxWait <= .seconds(3600) else {
            throw PipelineSettingsError("the burst window must be above zero and no longer than the max wait (at most 1 hour)")
        }
        guard (0...1).contains(s.confidenceThreshold) else { throw PipelineSettingsError("the confidence threshold is between 0 and 1") }
        guard s.contextIdle >= .seconds(1), s.contextIdle <= .seconds(2_592_000), s.contextIdle.components.attoseconds == 0 else {
            throw PipelineSettingsError("the context idle time is whole seconds, from 1 second to 30 days")
        }
        guard (2...10_000).contains(s.summaryEvery) else { throw PipelineSettingsError("summary-every is between 2 and 10000 messages") }
        guard (1...3650).contains(s.payloadRetentionDays) else { throw PipelineSettingsError("the payload retention is between 1 and 3650 days") }
        try await db.withTenant(tenant) { conn in
            try conn.execute(
                """
                INSERT INTO pipeline_settings (tenant_id, burst_window_ms, burst_max_wait_ms, flush_types, confidence_threshold, always_human,
                                               context_idle_seconds, summary_every, payload_retention_days)
                VALUES ($1, $2, $3, $4::text[], $5::real, $6::text[], $7, $8, $9)
                ON CONFLICT (tenant_id) DO UPDATE SET burst_window_ms = $2, burst_max_wait_ms = $3, flush_types = $4::text[],
                    confidence_threshold = $5::real, always_human = $6::text[], context_idle_seconds = $7, summary_every = $8,
                    payload_retention_days = $9, updated_at = now()
                """,
                [
                    .uuid(tenant), .int(s.burstWindow.wholeMilliseconds), .int(s.burstMaxWait.wholeMilliseconds), .textArray(s.flushTypes.sorted()),
                    .text("\(s.confidenceThreshold)"), .textArray(s.alwaysHuman.sorted()), .int(s.contextIdle.components.seconds),
                    .int(Int64(s.summaryEvery)), .int(Int64(s.payloadRetentionDays)),
                ])
        }
        _ = cache.withLock { $0.removeValue(forKey: tenant) }
    }
}

/// Settings that cannot be stored, and why.
public struct PipelineSettingsError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
