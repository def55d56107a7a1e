public import FoundationEssentials
public import SwitchboardRedis

/// A lock shared by every process on one Redis: one holder at a time per key, with a TTL so a crashed holder's lock
/// frees itself, and a **fencing number** per acquisition that strictly increases per key. A holder paused past its
/// TTL (GC, SIGSTOP, a slow disk) no longer holds the lock but may not know it: a store that remembers the highest
/// fencing number it accepted (``fencedAppend(list:value:fence:)`` is such a store) refuses its late writes.
///
/// ```swift
/// let lock = try DistributedLock(redis: redis, key: "conversation:\(id)")
/// try await lock.withLock(ttl: .seconds(10)) { fence in … }   // extended every ttl/3 while the body runs
/// ```
public struct DistributedLock: Sendable {
    public let redis: RedisClient
    public let key: String

    /// Thrown by ``withLock(owner:ttl:wait:_:)`` when another owner held the lock for the whole wait.
    public struct Busy: Error, CustomStringConvertible {
        public let key: String
        public var description: String { "lock \"\(key)\" is held by another owner" }
    }

    /// `key`: 1–200 characters without `{` or `}` (it becomes the Redis Cluster hash tag of the lock's keys).
    public init(redis: RedisClient, key: String) throws(QueueError) {
        try QueueKeys.validateTag(key, what: "lock key")
        self.redis = redis
        self.key = key
    }

    /// `sb:{lock:<key>}:` — the holder, the fencing counter, and any store fenced by this lock share the slot.
    public var prefix: String { "sb:{lock:\(key)}:" }
    var holderKey: String { prefix + "holder" }
    var fenceKey: String { prefix + "fence" }
    var waitersKey: String { prefix + "waiters" }

    /// As ``acquire(owner:ttl:)``; when busy, `waiter` (`<queue>|<job id>`) is listed to be woken by the release.
    func acquire(owner: String, ttl: Duration, waiter: String) async throws -> Int64? {
        let reply = try await run("acquire", owner, ttl, waiter: waiter)
        guard let fence = reply.int else { throw QueueError(.unexpectedReply, "lock acquire returned \(reply)") }
        return fence > 0 ? fence : nil
    }

    /// Releases the lock if this owner holds it, and takes the waiters listed meanwhile (up to 50) for the caller
    /// to wake.
    func releaseAndWake(owner: String) async throws -> [String] {
        Array((try await run("release-and-wake", owner, .zero).array ?? []).dropFirst().compactMap(\.string))
    }

    /// Takes the lock if it is free (or already this owner's); returns the fencing number, or nil when busy.
    public func acquire(owner: String, ttl: Duration) async throws -> Int64? {
        let reply = try await run("acquire", owner, ttl)
        guard let fence = reply.int else { throw QueueError(.unexpectedReply, "lock acquire returned \(reply)") }
        return fence > 0 ? fence : nil
    }

    /// Pushes the TTL out again; false when this owner no longer holds the lock.
    public func extend(owner: String, ttl: Duration) async throws -> Bool {
        try await run("extend", owner, ttl).int == 1
    }

    /// Releases the lock if this owner holds it; false when it had already lapsed (or another owner took it).
    @discardableResult
    public func release(owner: String) async throws -> Bool {
        try await run("release", owner, .zero).int == 1
    }

    private func run(_ op: String, _ owner: String, _ ttl: Duration, waiter: String = "") async throws -> RedisReply {
        try await redis.evaluate(
            QueueScripts.lock, keys: [.string(holderKey), .string(fenceKey), .string(waitersKey)],
            arguments: [.string(op), .string(owner), .int(max(1, ttl.milliseconds)), .string(waiter)])
    }

    /// Runs `body` holding the lock, extending it every `ttl`/3. Waits up to `wait` for a busy lock (retrying with a
    /// short random pause), then throws ``Busy``. If an extension finds the lock lost, `body`'s task is cancelled.
    public func withLock<T: Sendable>(
        owner: String = UUID().uuidString, ttl: Duration, wait: Duration = .zero, _ body: @escaping @Sendable (Int64) async throws -> T
    ) async throws -> T {
        let deadline = ContinuousClock.now + wait
        var fence = try await acquire(owner: owner, ttl: ttl)
        while fence == nil, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(Int.random(in: 2...20)))
            fence = try await acquire(owner: owner, ttl: ttl)
        }
        guard let fence else { throw Busy(key: key) }
        let lock = self
        do {
            let result = try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask {
                    // The keeper: extends until cancelled; a lost lock ends the group with an error, cancelling the body.
                    while true {
                        try await Task.sleep(for: ttl / 3)
                        guard try await lock.extend(owner: owner, ttl: ttl) else { throw Busy(key: lock.key) }
                    }
                }
                group.addTask { try await body(fence) }
                while let next = try await group.next() {
                    if let value = next {
                        group.cancelAll()
                        return value
                    }
                }
                throw CancellationError()
            }
            try await release(owner: owner)
            return result
        } catch {
            _ = try? await release(owner: owner)
            throw error
        }
    }

    /// Appends `value` to the list `list` (a key under ``prefix``) only if no writer with a higher fencing number has
    /// written there; refusals are counted in `<list>:refused`. Returns whether it was appended.
    public func fencedAppend(list: String, value: String, fence: Int64) async throws -> Bool {
        let listKey = prefix + list
        return try await redis.evaluate(
            QueueScripts.fencedAppend, keys: [.string(listKey), .string(listKey + ":fence"), .string(listKey + ":refused")],
            arguments: [.int(fence), .string(value)]
        ).int == 1
    }
}
