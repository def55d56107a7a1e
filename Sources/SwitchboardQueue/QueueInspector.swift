public import SwitchboardRedis

/// One job as stored, for ops and tests.
public struct JobSnapshot: Sendable, Hashable {
    public let id: String
    public let queue: String
    public let name: String
    /// scheduled, ready, active, retry, dead or done.
    public let state: String
    public let attempt: Int
    public let maxAttempts: Int
    public let fencingToken: Int64
    public let leaseOwner: String?
    /// The stored parameters (JSON).
    public let payload: [UInt8]
    /// The error history as stored (a JSON array of {attempt, at_ms, message}), or nil.
    public let errorsJSON: String?
    public let uniqueKey: String?
}

/// Reads and steers jobs: the operations behind the ops CLI.
public struct QueueInspector: Sendable {
    public let redis: RedisClient

    public init(redis: RedisClient) { self.redis = redis }

    /// The job, or nil when no job with that id is in `queue`.
    public func job(_ id: String, queue: String) async throws -> JobSnapshot? {
        let reply = try await redis.command(["HGETALL", .string(QueueKeys(queue: queue).job(id))])
        guard let items = reply.array, !items.isEmpty else { return nil }
        var fields: [String: RedisReply] = [:]
        var i = 0
        while i + 1 < items.count {
            if let key = items[i].string { fields[key] = items[i + 1] }
            i += 2
        }
        func text(_ k: String) -> String? { fields[k]?.string.flatMap { $0.isEmpty ? nil : $0 } }
        return JobSnapshot(
            id: id, queue: queue, name: text("name") ?? "", state: text("state") ?? "unknown",
            attempt: Int(fields["attempt"]?.int ?? 0), maxAttempts: Int(fields["max_attempts"]?.int ?? 0),
            fencingToken: fields["token"]?.int ?? 0, leaseOwner: text("lease_owner"), payload: fields["payload"]?.bytes ?? [],
            errorsJSON: text("errors"), uniqueKey: text("unique_key"))
    }

    /// Sizes of each state of `queue`.
    public func counts(queue: String) async throws -> [String: Int] {
        let k = QueueKeys(queue: queue)
        let replies = try await redis.pipeline([
            ["LLEN", .string(k.ready)], ["ZCARD", .string(k.scheduled)], ["ZCARD", .string(k.retry)],
            ["ZCARD", .string(k.active)], ["ZCARD", .string(k.dead)], ["ZCARD", .string(k.done)],
        ])
        let names = ["ready", "scheduled", "retry", "active", "dead", "done"]
        return Dictionary(uniqueKeysWithValues: zip(names, replies.map { Int($0.int ?? 0) }))
    }

    /// Moves a dead job back to ready with a fresh attempt budget. Returns false when it is not dead.
    @discardableResult
    public func revive(_ id: String, queue: String) async throws -> Bool {
        let k = QueueKeys(queue: queue)
        let reply = try await redis.evaluate(
            QueueScripts.revive, keys: [.string(k.dead), .string(k.ready), .string(k.doorbell)], arguments: [.string(k.prefix), .string(id)])
        return reply.int == 1
    }

    /// Deletes a dead job. Returns false when it is not dead.
    @discardableResult
    public func discard(_ id: String, queue: String) async throws -> Bool {
        let k = QueueKeys(queue: queue)
        let reply = try await redis.evaluate(QueueScripts.discard, keys: [.string(k.dead)], arguments: [.string(k.prefix), .string(id)])
        return reply.int == 1
    }
}
