public import SwitchboardRedis

/// Built-in jobs for ops and tests, registered by every worker.
///
/// | name | parameters | does |
/// |---|---|---|
/// | `noop` | `{}` | nothing |
/// | `sleep` | `{"ms": 250}` | sleeps (cancellable) |
/// | `fail` | `{"times": 3}` | fails its first `times` attempts, then succeeds |
/// | `probe` | `{"ms": 50, "set": "name"}` | sleeps, then adds its job id to the Redis set `name` and increments `name:count`, so lost and duplicated runs can be counted from outside |
public enum DiagnosticJobs {
    public struct Noop: JobParameters {
        public static let jobName = "noop"
        public init() {}
    }

    public struct Sleep: JobParameters {
        public static let jobName = "sleep"
        public let ms: Int
        public init(ms: Int) { self.ms = ms }
    }

    public struct Fail: JobParameters {
        public static let jobName = "fail"
        public let times: Int
        public init(times: Int) { self.times = times }
    }

    public struct Probe: JobParameters {
        public static let jobName = "probe"
        public let ms: Int
        public let set: String
        public init(ms: Int, set: String) {
            self.ms = ms
            self.set = set
        }
    }

    /// The error `fail` throws on the attempts it is told to fail.
    public struct PlannedFailure: Error, CustomStringConvertible {
        public let attempt: Int
        public var description: String { "planned failure on attempt \(attempt)" }
    }

    /// Registers all four in `registry`; `probe` writes through `redis`.
    public static func register(in registry: JobRegistry, redis: RedisClient) {
        registry.register(Noop.self) { _, _ in }
        registry.register(Sleep.self) { p, _ in try await Task.sleep(for: .milliseconds(p.ms)) }
        registry.register(Fail.self) { p, context in
            if context.attempt <= p.times { throw PlannedFailure(attempt: context.attempt) }
        }
        registry.register(Probe.self) { p, context in
            if p.ms > 0 { try await Task.sleep(for: .milliseconds(p.ms)) }
            _ = try await redis.pipeline([["SADD", .string(p.set), .string(context.id)], ["INCR", .string(p.set + ":count")]])
        }
    }
}
