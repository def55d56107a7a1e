/// How often and how far apart a failing job is retried: exponential backoff with full jitter
/// (delay = random(0, min(cap, base × 2^(attempt−1)))), spreading retries of a burst of failures evenly.
///
/// Defaults: 10 attempts, base 2 s, cap 15 min — an expected ~16 minutes from first failure to the dead set,
/// at most ~32. For a customer-service pipeline a reply retried for weeks is worthless; jobs that must outlast long
/// outages should raise ``maxAttempts`` and ``cap``.
public struct RetryPolicy: Sendable, Hashable, Codable {
    /// Attempts in all, the first run included. 1 means never retry.
    public var maxAttempts: Int
    public var base: Duration
    public var cap: Duration

    public init(maxAttempts: Int = 10, base: Duration = .seconds(2), cap: Duration = .seconds(15 * 60)) {
        self.maxAttempts = max(1, maxAttempts)
        self.base = base
        self.cap = cap
    }

    /// A job enqueued with this policy stores no retry options (``StoredOptions`` leaves defaults out), so changing the
    /// default applies to such jobs already queued when they run. The dead-set decision in `fail.lua` also reads the
    /// max attempts recorded at enqueue, so across such a change the smaller of the two counts.
    public static let `default` = RetryPolicy()
    /// Run once; a failure goes straight to the dead set.
    public static let never = RetryPolicy(maxAttempts: 1)

    /// The delay before retrying after failed attempt `attempt` (1-based), with full jitter.
    public func delay(afterAttempt attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let ceiling = ceilingMilliseconds(afterAttempt: attempt)
        return .milliseconds(ceiling == 0 ? 0 : Int64.random(in: 0...ceiling, using: &generator))
    }

    /// The upper bound of the jittered delay after `attempt`, in milliseconds.
    public func ceilingMilliseconds(afterAttempt attempt: Int) -> Int64 {
        let baseMs = base.milliseconds
        let capMs = cap.milliseconds
        let exponent = min(max(attempt - 1, 0), 40)
        let (scaled, overflow) = baseMs.multipliedReportingOverflow(by: Int64(1) << exponent)
        return overflow ? capMs : min(capMs, scaled)
    }

    enum CodingKeys: String, CodingKey {
        case maxAttempts = "max_attempts"
        case baseMs = "base_ms"
        case capMs = "cap_ms"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            maxAttempts: try c.decode(Int.self, forKey: .maxAttempts), base: .milliseconds(try c.decode(Int64.self, forKey: .baseMs)),
            cap: .milliseconds(try c.decode(Int64.self, forKey: .capMs)))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(maxAttempts, forKey: .maxAttempts)
        try c.encode(base.milliseconds, forKey: .baseMs)
        try c.encode(cap.milliseconds, forKey: .capMs)
    }
}

extension Duration {
    /// Whole milliseconds (truncated).
    public var milliseconds: Int64 {
        let (s, a) = components
        return s * 1000 + a / 1_000_000_000_000_000
    }
}
