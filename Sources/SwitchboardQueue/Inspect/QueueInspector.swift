public import SwitchboardRedis

/// One job as stored, for ops and tests.
public struct JobSnapshot: Sendable, Hashable {
    public let id: String
    public let queue: String
    public let name: String
    /// scheduled, ready, active, retry, dead or done.
    public let state: String
    /// Attempts used up; for an active job, the one running.
    public let attempt: Int
    public let maxAttempts: Int
    /// The running lease's fencing token; 0 when the job is not active.
    public let fencingToken: Int64
    /// The worker holding the lease; nil when the job is not active.
    public let leaseOwner: String?
    /// The stored parameters (JSON).
    public let payload: [UInt8]
    /// The error history as stored (a JSON array of {attempt, at_ms, message}), or nil.
    public let errorsJSON: String?
    public let uniqueKey: String?
    /// For a successor (chains): the job whose completion created it.
    public let parent: String?
    /// The options it runs with, as resolved when it was enqueued.
    public var retryPolicy: RetryPolicy { options.retry }
    public var timeout: Duration { .milliseconds(options.timeoutMs) }
    public var lockKey: String? { options.lock }
    public var rateLimit: RateLimit? { options.rate }
    public var concurrencyLimit: ConcurrencyLimit? { options.concurrency }
    let options: StoredOptions
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
    /// Successors of this queue's completed jobs not yet relayed to their own queue (normally 0; a backlog means no
    /// worker serves this queue to sweep them).
    public let outbox: Int
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
        // A lease lives only in `active` (the hash of a leased job still says ready).
        let lease = text("state") == "ready" ? try await self.lease(of: id, queue: queue) : nil
        let used = Int(fields["attempt"]?.int ?? 0)
        return JobSnapshot(
            id: id, queue: queue, name: text("name") ?? "", state: lease == nil ? text("state") ?? "unknown" : "active",
            attempt: lease == nil ? used : used + 1, maxAttempts: Int(fields["max_attempts"]?.int ?? 0),
            fencingToken: lease?.token ?? 0, leaseOwner: lease?.worker, payload: fields["payload"]?.bytes ?? [],
            errorsJSON: text("errors"), uniqueKey: text("unique_key"), parent: text("parent"),
            options: OptionsCache.options(for: fields["options"]?.bytes ?? Array("{}".utf8)))
    }

    /// The lease job `id` runs under, if it is active: a ZSCAN of `active` (as large as the queue's busy slots).
    func lease(of id: String, queue: String) async throws -> LeaseMember? {
        let active = QueueKeys(queue: queue).active
        var cursor = "0"
        repeat {
            let reply =
                try await redis.command(["ZSCAN", .string(active), .string(cursor), "MATCH", .string(Self.globEscaped(id) + "|*"), "COUNT", 1000])
                .array ?? []
            guard reply.count == 2, let next = reply[0].string else { throw RedisError(.protocolError, "ZSCAN answered with an unexpected shape") }
            cursor = next
            let members = (reply[1].array ?? []).compactMap(\.string)
            for (i, member) in members.enumerated() where i % 2 == 0 {
                if let lease = LeaseMember(member), lease.jobID == id { return lease }
            }
        } while cursor != "0"
        return nil
    }

    /// `text` with Redis's glob characters escaped, for a MATCH pattern that matches it literally.
    static func globEscaped(_ text: String) -> String {
        var out = ""
        for c in text {
            if "*?[]\\".contains(c) { out.append("\\") }
            out.append(c)
        }
        return out
    }

    /// Sizes of each state of `queue` (keys: ready, scheduled, retry, active, dead, done).
    public func counts(queue: String) async throws -> [String: Int] {
        let s = try await stats(queue: queue)
        return ["ready": s.ready, "scheduled": s.scheduled, "retry": s.retry, "active": s.active, "dead": s.dead, "done": s.done]
    }

    /// Sizes by state, latency, today's counters (UTC) and the paused flag, in two round trips.
    public func stats(queue: String) async throws -> QueueStats {
        let k = QueueKeys(queue: queue)
        let r = try await redis.pipeline([
            ["LLEN", .string(k.ready)], ["ZCARD", .string(k.scheduled)], ["ZCARD", .string(k.retry)], ["ZCARD", .string(k.active)],
            ["ZCARD", .string(k.dead)], ["ZCARD", .string(k.done)], ["LINDEX", .string(k.ready), 0], ["TIME"],
            ["GET", .string(k.processedToday)], ["GET", .string(k.failedToday)], ["EXISTS", .string(k.paused)], ["HLEN", .string(k.outbox)],
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
            processedToday: r[8].int ?? 0, failedToday: r[9].int ?? 0, paused: r[10].int == 1, outbox: n(11))
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
        let records = try await redis.pipeline(
            ids.map { ["HMGET", .string(QueueKeys.worker($0.0)), "pid", "queues", "concurrency", "busy", "jobs", "beat_ms"] })
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

    /// Stops workers from taking `queue`'s jobs; enqueues still land. Returns false if it was already paused.
    @discardableResult
    public func pause(queue: String) async throws -> Bool {
        try await redis.command(["SET", .string(QueueKeys(queue: queue).paused), "1", "NX"]) == .status("OK")
    }

    /// Lets workers take `queue`'s jobs again, waking the idle ones. Returns false if it was not paused.
    @discardableResult
    public func resume(queue: String) async throws -> Bool {
        let k = QueueKeys(queue: queue)
        let replies = try await redis.pipeline([
            ["DEL", .string(k.paused)], ["LPUSH", .string(k.doorbell), 1], ["LTRIM", .string(k.doorbell), 0, 63],
        ])
        return replies[0].int == 1
    }

    /// The states `purge` may empty (never `active`: workers hold those leases).
    public static let purgeableStates = ["ready", "scheduled", "retry", "dead", "done"]

    /// Deletes every job in `state` of `queue`, 1,000 per atomic step; returns how many.
    public func purge(queue: String, state: String) async throws -> Int {
        guard Self.purgeableStates.contains(state) else {
            throw QueueError(.invalidOptions, "state \"\(state)\" cannot be purged; use one of \(Self.purgeableStates.joined(separator: ", "))")
        }
        let k = QueueKeys(queue: queue)
        let key = ["ready": k.ready, "scheduled": k.scheduled, "retry": k.retry, "dead": k.dead, "done": k.done][state]!
        var total = 0
        while true {
            let n =
                try await redis.evaluate(
                    QueueScripts.purge, keys: [.string(key)], arguments: [.string(k.prefix), .string(state == "ready" ? "list" : "zset"), 1000]
                ).int ?? 0
            total += Int(n)
            if n == 0 { return total }
        }
    }

    /// Up to `limit` jobs, newest first (by creation), from the given queues and states, optionally of one name.
    public func list(queues: [String], states: [String], name: String? = nil, limit: Int) async throws -> [JobSnapshot] {
        var candidates: [(queue: String, id: String)] = []
        let scan = name == nil ? limit : limit * 20  // a name filter looks further back
        for queue in queues {
            let k = QueueKeys(queue: queue)
            for state in states {
                let ids: [String]
                switch state {
                case "ready": ids = (try await redis.command(["LRANGE", .string(k.ready), .int(-scan), -1]).array ?? []).compactMap(\.string)
                case "active":  // members are leases, '<id>|<token>|<worker>'
                    let members = try await redis.command(["ZREVRANGE", .string(k.active), 0, .int(scan - 1)]).array ?? []
                    ids = members.compactMap { $0.string.flatMap(LeaseMember.init)?.jobID }
                default:
                    let key = ["scheduled": k.scheduled, "retry": k.retry, "dead": k.dead, "done": k.done][state]
                    guard let key else {
                        throw QueueError(.invalidOptions, "unknown state \"\(state)\"; use ready, scheduled, active, retry, dead or done")
                    }
                    ids = (try await redis.command(["ZREVRANGE", .string(key), 0, .int(scan - 1)]).array ?? []).compactMap(\.string)
                }
                candidates += ids.map { (queue, $0) }
            }
        }
        var jobs: [(created: Int64, job: JobSnapshot)] = []
        for candidate in candidates {
            guard let job = try await self.job(candidate.id, queue: candidate.queue), name == nil || job.name == name else { continue }
            let created = try await redis.command(["HGET", .string(QueueKeys(queue: candidate.queue).job(candidate.id)), "created_ms"]).int ?? 0
            jobs.append((created, job))
        }
        return jobs.sorted { $0.created > $1.created }.prefix(limit).map(\.job)
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

    /// A fan-in's state (``JobContext/enqueueOnSuccess(members:thenJoin:)``), from its record in the joining job's
    /// queue; nil before its first member arrived, or 7 days after its last change.
    public func join(_ id: String, queue: String) async throws -> JoinSnapshot? {
        let f =
            try await redis.command(
                ["HMGET", .string(QueueKeys(queue: queue).prefix + "join:" + id), "state", "n", "arrived", "job", "failed_member", "reason"]).array
            ?? []
        guard let state = f.first?.string else { return nil }
        func text(_ i: Int) -> String? { f.indices.contains(i) ? f[i].string : nil }
        return JoinSnapshot(
            id: id, state: state, members: Int(text(1) ?? "") ?? 0, arrived: Int(text(2) ?? "") ?? 0, joinJob: text(3), failedMember: text(4),
            reason: text(5))
    }
}

/// A fan-in at a glance: `waiting` for members, `done` (the joining job was created), or `failed` (a member died).
public struct JoinSnapshot: Sendable, Hashable {
    public let id: String
    public let state: String
    public let members: Int
    public let arrived: Int
    public let joinJob: String?
    public let failedMember: String?
    public let reason: String?
}
