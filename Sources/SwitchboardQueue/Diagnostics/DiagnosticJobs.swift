public import SwitchboardRedis

/// Built-in jobs for ops and tests, registered by every worker.
///
/// | name | parameters | does |
/// |---|---|---|
/// | `noop` | `{}` | nothing |
/// | `sleep` | `{"ms": 250}` | sleeps (cancellable) |
/// | `fail` | `{"times": 3}` | fails its first `times` attempts, then succeeds |
/// | `probe` | `{"ms": 50, "set": "name"}` | sleeps, then adds its job id to the Redis set `name` and increments `name:count`, so lost and duplicated runs can be counted from outside |
/// | `chain` | `{"set": "name", "steps": 3, "fanout": 1, "next_queue": "q", "ms": 0, "debounce": "key"}` | records itself like `probe` (and its parent in the hash `name:parent`), then, if `steps` > 1, enqueues `fanout` successors with `steps` − 1 on its success (``JobContext/enqueueOnSuccess(_:options:)``), on `next_queue` or its own queue; with `debounce`, the successors are debounced (collecting) under that key, and a successor records how many it collected in the hash `name:collected` and their parents in the list `name:collected-from`; with `join`, the successors are a fan-in's members and a last step on the parent's queue runs once they all succeeded, recording their ids in the list `name:joined` |
/// | `stamp` | `{"t_us": 1763900000000000, "list": "name"}` | pushes (now − t_us) in microseconds onto the list `name`: pickup latency for `switchboard bench` |
/// | `lock-hammer` | `{"key": "k", "list": "log", "seconds": 20, "hold_ms": 5, "ttl_ms": 1000, "extend": true}` | for `seconds`, takes lock `k` again and again, holds it `hold_ms`, and appends "fence start_us end_us" (Redis clock) to the lock's fenced list `log` (`sb:{lock:k}:log`); with `extend: false` it holds without extending and writes even after losing the lock, so the fencing check can be seen refusing it |
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

    public struct Chain: JobParameters {
        public static let jobName = "chain"
        public let set: String
        public let steps: Int
        public var fanout: Int? = nil
        public var next_queue: String? = nil
        public var ms: Int? = nil
        /// The parent's id: the result each step hands to the next.
        public var from: String? = nil
        /// Successors are debounced under this key (window 1 s, max wait 10 s, collecting): the successors of a
        /// burst of parents become one job, which records how many parameters it collected in `<set>:collected`.
        public var debounce: String? = nil
        /// Successors are the members of a fan-in whose joining job (a chain step with `joined`) records their
        /// results (each member's id) in the list `<set>:joined` and its own id in the set `<set>:joins`.
        public var join: Bool? = nil
        public var joined: Bool? = nil
        public init(
            set: String, steps: Int, fanout: Int? = nil, next_queue: String? = nil, ms: Int? = nil, from: String? = nil, debounce: String? = nil,
            join: Bool? = nil, joined: Bool? = nil
        ) {
            (self.set, self.steps, self.fanout, self.next_queue, self.ms, self.from) = (set, steps, fanout, next_queue, ms, from)
            (self.debounce, self.join, self.joined) = (debounce, join, joined)
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

    public struct LockHammer: JobParameters {
        public static let jobName = "lock-hammer"
        public let key: String
        public let list: String
        public let seconds: Double
        public let hold_ms: Int
        public let ttl_ms: Int
        public let extend: Bool
        public init(key: String, list: String, seconds: Double, hold_ms: Int, ttl_ms: Int, extend: Bool) {
            (self.key, self.list, self.seconds, self.hold_ms, self.ttl_ms, self.extend) = (key, list, seconds, hold_ms, ttl_ms, extend)
        }
    }

    /// The error `fail` throws on the attempts it is told to fail.
    public struct PlannedFailure: Error, CustomStringConvertible {
        public let attempt: Int
        public var description: String { "planned failure on attempt \(attempt)" }
    }

    /// Registers them all in `registry`; `probe` writes through `redis`.
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
        registry.register(Chain.self) { p, context in
            if let ms = p.ms, ms > 0 { try await Task.sleep(for: .milliseconds(ms)) }
            var commands: [[RedisArgument]] = [["SADD", .string(p.set), .string(context.id)], ["INCR", .string(p.set + ":count")]]
            if let from = p.from { commands.append(["HSET", .string(p.set + ":parent"), .string(context.id), .string(from)]) }
            if p.joined == true {
                let results = try context.joinResults(String.self)
                commands.append(["SADD", .string(p.set + ":joins"), .string(context.id)])
                for r in results { commands.append(["RPUSH", .string(p.set + ":joined"), .string(r ?? "")]) }
            }
            try context.setJoinResult(context.id)
            let collected = p.joined == true ? [] : try context.collected(Chain.self)
            if !collected.isEmpty {
                commands.append(["HSET", .string(p.set + ":collected"), .string(context.id), .int(collected.count)])
                for c in collected { commands.append(["RPUSH", .string(p.set + ":collected-from"), .string(c.from ?? "")]) }
            }
            _ = try await redis.pipeline(commands)
            guard p.steps > 1 else { return }
            var options = JobOptions(queue: p.next_queue ?? context.queue)
            if let key = p.debounce { options.debounce = DebounceOptions(key: key, window: .seconds(1), maxWait: .seconds(10), collect: true) }
            if p.join == true {
                let members = try (0..<max(1, p.fanout ?? 1)).map { _ in
                    try JobQueue.NewJob(Chain(set: p.set, steps: p.steps - 1, next_queue: p.next_queue, ms: p.ms, from: context.id), options: options)
                }
                let joining = try JobQueue.NewJob(Chain(set: p.set, steps: 1, from: context.id, joined: true), options: .init(queue: context.queue))
                try context.enqueueOnSuccess(members: members, thenJoin: joining)
                return
            }
            for _ in 0..<max(1, p.fanout ?? 1) {
                let next = Chain(set: p.set, steps: p.steps - 1, fanout: p.fanout, next_queue: p.next_queue, ms: p.ms, from: context.id)
                try context.enqueueOnSuccess(next, options: options)
            }
        }
        registry.register(Stamp.self) { p, _ in
            try await redis.command(["RPUSH", .string(p.list), .int(nowMicroseconds() - p.t_us)])
        }
        registry.register(LockHammer.self) { p, context in try await hammer(p, redis: redis, context: context) }
    }

    static func hammer(_ p: LockHammer, redis: RedisClient, context: JobContext) async throws {
        let lock = try DistributedLock(redis: redis, key: p.key)
        let owner = "\(context.id):\(Int.random(in: 0...Int.max))"
        let ttl = Duration.milliseconds(p.ttl_ms)
        @Sendable func redisMicros() async throws -> Int64 {
            let t = try await redis.command(["TIME"]).array ?? []
            return (t.first?.int ?? 0) * 1_000_000 + (t.last?.int ?? 0)
        }
        let until = ContinuousClock.now + .milliseconds(Int64(p.seconds * 1000))
        repeat {
            if p.extend {
                try await lock.withLock(owner: owner, ttl: ttl, wait: .seconds(60)) { fence in
                    let start = try await redisMicros()
                    try await Task.sleep(for: .milliseconds(p.hold_ms))
                    let end = try await redisMicros()
                    _ = try await lock.fencedAppend(list: p.list, value: "\(fence) \(start) \(end)", fence: fence)
                }
            } else {
                var fence = try await lock.acquire(owner: owner, ttl: ttl)
                while fence == nil {
                    try await Task.sleep(for: .milliseconds(Int.random(in: 2...20)))
                    fence = try await lock.acquire(owner: owner, ttl: ttl)
                }
                let start = try await redisMicros()
                try await Task.sleep(for: .milliseconds(p.hold_ms))  // not extended: a pause past the TTL loses the lock
                let end = try await redisMicros()
                _ = try await lock.fencedAppend(list: p.list, value: "\(fence!) \(start) \(end)", fence: fence!)
                try await lock.release(owner: owner)
            }
        } while ContinuousClock.now < until
    }
}
