public import SwitchboardRedis

/// At most `limit` admissions per `period` under one key, shared by every worker (GCRA on Redis). Jobs declare one
/// (``JobParameters/rateLimit``, e.g. per LLM provider or per tenant); a job over the limit is put back until it may
/// run, without using an attempt.
public struct RateLimit: Sendable, Hashable, Codable {
    public var key: String
    public var limit: Int
    public var period: Duration
    /// Admissions allowed at once after a quiet spell. Default 1: evenly spaced, so no window of one period ever
    /// holds more than `limit`.
    public var burst: Int

    public init(key: String, limit: Int, per period: Duration, burst: Int = 1) {
        self.key = key
        self.limit = limit
        self.period = period
        self.burst = burst
    }

    enum CodingKeys: String, CodingKey {
        case key, limit
        case periodMs = "period_ms"
        case burst
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        key = try c.decode(String.self, forKey: .key)
        limit = try c.decode(Int.self, forKey: .limit)
        period = .milliseconds(try c.decode(Int64.self, forKey: .periodMs))
        burst = try c.decodeIfPresent(Int.self, forKey: .burst) ?? 1
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(key, forKey: .key)
        try c.encode(limit, forKey: .limit)
        try c.encode(period.milliseconds, forKey: .periodMs)
        try c.encode(burst, forKey: .burst)
    }

    /// Checks the key (it becomes a hash tag) and the numbers.
    public func validate() throws(QueueError) {
        try QueueKeys.validateTag(key, what: "rate limit key")
        guard limit >= 1, burst >= 1, period >= .milliseconds(1) else {
            throw QueueError(.invalidOptions, "a rate limit needs limit ≥ 1, burst ≥ 1 and a period of at least 1 ms")
        }
    }

    var tatKey: String { "sb:{rate:\(key)}:tat" }

    /// One admission: nil when admitted (with the server time in µs), else how long to wait. With a `weight` above 1
    /// it counts as that many (tokens of an LLM call under a tokens-per-minute limit): it is admitted when the limit
    /// is free and pushes the next admission out by its weight.
    public func admit(on redis: RedisClient, weight: Int = 1) async throws -> (admittedAtMicros: Int64?, wait: Duration) {
        let interval = max(1, period.milliseconds * 1000 * Int64(max(1, weight)) / Int64(limit))
        let reply = try await redis.evaluate(
            QueueScripts.rateLimit, keys: [.string(tatKey)], arguments: [.int(interval), .int(interval * Int64(burst - 1))])
        guard let items = reply.array, items.count == 2, let ok = items[0].int, let value = items[1].int else {
            throw QueueError(.unexpectedReply, "rate limit returned \(reply)")
        }
        return ok == 1 ? (value, .zero) : (nil, .microseconds(value))
    }
}
