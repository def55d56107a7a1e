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

/// One queue at a glance.
public struct QueueStats: Sendable, Hashable, Codable {
    public let queue: String
    public let ready: Int
    public let scheduled: Int
    public let retry: Int
    public let active: Int
    public let dead: Int
    public let done: Int
    /// Age of the job at the head of `ready` (the next to run), in ms on Redis's clock; 0 when none is ready.
    public let latencyMs: Int64
    public let processedToday: Int64
    public let failedToday: Int64
    public let paused: Bool
}

/// One worker process as its heartbeat describes it.
public struct WorkerSnapshot: Sendable, Hashable, Codable {
    public let id: String
    public let pid: Int
    public let host: String
    public let queues: [String]
    public let concurrency: Int
    public let busy: Int
    public let jobs: [String]
    /// Milliseconds since its last heartbeat.
    public let heartbeatAgeMs: Int64
    /// No heartbeat record any more (it expires after 5 missed heartbeats): the process is gone.
    public let dead: Bool
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

    /// Sizes by state, latency, today's counters (UTC) and the paused flag, in two round trips.
    public func stats(queue: String) async throws -> QueueStats {
        let k = QueueKeys(queue: queue)
        let r = try await redis.pipeline([
            ["LLEN", .string(k.ready)], ["ZCARD", .string(k.scheduled)], ["ZCARD", .string(k.retry)], ["ZCARD", .string(k.active)],
            ["ZCARD", .string(k.dead)], ["ZCARD", .string(k.done)], ["LINDEX", .string(k.ready), 0], ["TIME"],
            ["GET", .string(k.processedToday)], ["GET", .string(k.failedToday)], ["EXISTS", .string(k.paused)],
        ])
        var latency: Int64 = 0
        if let head = r[6].string, let time = r[7].array, time.count == 2, let s = time[0].int, let us = time[1].int,
            let readyAt = try await redis.command(["HGET", .string(k.job(head)), "ready_ms"]).int
        {
            latency = max(0, s * 1000 + us / 1000 - readyAt)
        }
        func n(_ i: Int) -> Int { Int(r[i].int ?? 0) }
        return QueueStats(
            queue: queue, ready: n(0), scheduled: n(1), retry: n(2), active: n(3), dead: n(4), done: n(5), latencyMs: latency,
            processedToday: r[8].int ?? 0, failedToday: r[9].int ?? 0, paused: r[10].int == 1)
    }

    /// Every queue enqueued to, sorted.
    public func queues() async throws -> [String] {
        (try await redis.command(["SMEMBERS", .string(QueueKeys.registry)]).array ?? []).compactMap(\.string).sorted()
    }

    /// Finds which known queue holds job `id` (nil when none does).
    public func queue(of id: String) async throws -> String? {
        let names = try await queues()
        if names.isEmpty { return nil }
        let found = try await redis.pipeline(names.map { ["EXISTS", .string(QueueKeys(queue: $0).job(id))] })
        return zip(names, found).first { $0.1.int == 1 }?.0
    }

    /// Worker processes from their heartbeats, newest first; those whose record expired are marked dead.
    public func workers() async throws -> [WorkerSnapshot] {
        let entries = try await redis.command(["ZREVRANGE", .string(QueueKeys.workers), 0, -1, "WITHSCORES"]).array ?? []
        var ids: [(String, Int64)] = []
        var i = 0
        while i + 1 < entries.count {
            if let id = entries[i].string, let beat = entries[i + 1].int { ids.append((id, beat)) }
            i += 2
        }
        if ids.isEmpty { return [] }
        let records = try await redis.pipeline(ids.map { ["HMGET", .string(QueueKeys.worker($0.0)), "pid", "queues", "concurrency", "busy", "jobs", "beat_ms"] })
        let time = try await redis.command(["TIME"]).array ?? []
        let now = (time.first?.int ?? 0) * 1000 + (time.last?.int ?? 0) / 1000
        return zip(ids, records).map { entry, reply in
            let f = reply.array ?? []
            func text(_ i: Int) -> String? { f.indices.contains(i) ? f[i].string : nil }
            let beat = Int64(text(5) ?? "") ?? entry.1
            return WorkerSnapshot(
                id: entry.0, pid: Int(text(0) ?? "") ?? 0, host: String(entry.0.split(separator: ":").first ?? ""),
                queues: (text(1) ?? "").split(separator: ",").map(String.init), concurrency: Int(text(2) ?? "") ?? 0,
                busy: Int(text(3) ?? "") ?? 0, jobs: (text(4) ?? "").split(separator: ",").map(String.init),
                heartbeatAgeMs: max(0, now - beat), dead: text(0) == nil)
        }
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
