public import SwitchboardRedis

/// At most `limit` jobs running at once under one key, across every worker (a counting semaphore on Redis). Jobs
/// declare one (``JobParameters/concurrencyLimit``: three LLM calls per tenant, two exports per customer); a job
/// whose key is full is put back for a moment without using an attempt. A slot is held for one lease and extended
/// with the heartbeat, so a SIGKILLed holder's slot frees itself when its lease would have lapsed.
///
/// With `limit` 1 this is "one job per key" without a fencing number; ``JobParameters/lockKey`` is the same with
/// fencing.
public struct ConcurrencyLimit: Sendable, Hashable, Codable {
    public var key: String
    public var limit: Int

    public init(key: String, limit: Int) {
        self.key = key
        self.limit = limit
    }

    /// Checks the key (it becomes a hash tag) and the limit (1–10,000).
    public func validate() throws(QueueError) {
        try QueueKeys.validateTag(key, what: "concurrency key")
        guard (1...10_000).contains(limit) else {
            throw QueueError(.invalidOptions, "a concurrency limit must be 1-10000, not \(limit)")
        }
    }

    /// `sb:{conc:<key>}:holders`: a zset of owner tokens scored by when their hold lapses (ms, Redis clock).
    public var holdersKey: String { "sb:{conc:\(key)}:holders" }

    /// Takes one of the slots for `owner` (again: extends it); false when all `limit` are held by others.
    public func acquire(owner: String, ttl: Duration, on redis: RedisClient) async throws -> Bool {
        try await run("acquire", owner, ttl, on: redis)
    }

    /// Pushes the owner's hold out to now + `ttl`; false when it had already lapsed (the slot may be someone else's).
    public func extend(owner: String, ttl: Duration, on redis: RedisClient) async throws -> Bool {
        try await run("extend", owner, ttl, on: redis)
    }

    /// Gives the owner's slot back; false when it held none.
    @discardableResult
    public func release(owner: String, on redis: RedisClient) async throws -> Bool {
        try await run("release", owner, .zero, on: redis)
    }

    /// As ``acquire(owner:ttl:on:)``; when full, `waiter` (`<queue>|<job id>`) is listed to be woken by a release.
    func acquire(owner: String, ttl: Duration, waiter: String, on redis: RedisClient) async throws -> Bool {
        try await run("acquire", owner, ttl, waiter: waiter, on: redis)
    }

    /// Gives the owner's slot back and takes the waiters listed meanwhile (up to 50) for the caller to wake.
    func releaseAndWake(owner: String, on redis: RedisClient) async throws -> [String] {
        Array((try await call("release-and-wake", owner, .zero, waiter: "", on: redis).array ?? []).dropFirst().compactMap(\.string))
    }

    var waitersKey: String { "sb:{conc:\(key)}:waiters" }

    private func run(_ op: String, _ owner: String, _ ttl: Duration, waiter: String = "", on redis: RedisClient) async throws -> Bool {
        let reply = try await call(op, owner, ttl, waiter: waiter, on: redis)
        guard let answer = reply.int else { throw QueueError(.unexpectedReply, "semaphore \(op) returned \(reply)") }
        return answer == 1
    }

    private func call(_ op: String, _ owner: String, _ ttl: Duration, waiter: String, on redis: RedisClient) async throws -> RedisReply {
        try await redis.evaluate(
            QueueScripts.semaphore, keys: [.string(holdersKey), .string(waitersKey)],
            arguments: [.string(op), .string(owner), .int(max(1, ttl.milliseconds)), .int(limit), .string(waiter)])
    }
}
