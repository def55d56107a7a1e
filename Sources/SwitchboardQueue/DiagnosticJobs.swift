public import SwitchboardRedis

/// Built-in jobs for ops and tests, registered by every worker.
///
/// | name | parameters | does |
/// |---|---|---|
/// | `noop` | `{}` | nothing |
/// | `sleep` | `{"ms": 250}` | sleeps (cancellable) |
/// | `fail` | `{"times": 3}` | fails its first `times` attempts, then succeeds |
/// | `probe` | `{"ms": 50, "set": "name"}` | sleeps, then adds its job id to the Redis set `name` and increments `name:count`, so lost and duplicated runs can be counted from outside |
/// | `stamp` | `{"t_us": 1763900000000000, "list": "name"}` | pushes (now − t_us) in microseconds onto the list `name`: pickup latency for `switchboard bench` |
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

    public struct Stamp: JobParameters {
        public static let jobName = "stamp"
        public let t_us: Int64
        public let list: String
        public init(t_us: Int64, list: String) {
            self.t_us = t_us
            self.list = list
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
        registry.register(Stamp.self) { p, _ in
            try await redis.command(["RPUSH", .string(p.list), .int(nowMicroseconds() - p.t_us)])
        }
    }
}
