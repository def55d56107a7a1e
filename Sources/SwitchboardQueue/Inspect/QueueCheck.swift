import SwitchboardRedis

/// One inconsistency that `check` found in a queue, and what `--repair` did about it.
public struct QueueFinding: Sendable, Hashable, Codable {
    /// `orphan-id`, `two-states`, `wrong-state`, `stranded`, `no-lease-holder` or `dangling-unique`.
    public let kind: String
    public let queue: String
    /// The job id, or for `dangling-unique` the unique key.
    public let subject: String
    /// What is wrong, in words.
    public let problem: String
    /// What the repair did; nil when only checking.
    public let repair: String?
}

extension QueueInspector {
    /// Finds inconsistencies in `queue` and, when `repair` is true, fixes each one.
    ///
    /// Suspects come from snapshots of the queue's keys read in pages (so a large queue never blocks Redis); each
    /// suspect is then decided again, and repaired, by `check.lua` in one atomic step, so jobs that merely moved while
    /// the snapshots were taken are not reported and a repair never acts on stale information. The retention values
    /// bound the dead set when a repair sends a job that is out of attempts there.
    public func check(
        queue: String, repair: Bool, deadRetention: Retention = WorkerOptions().deadRetention
    ) async throws -> [QueueFinding] {
        let k = QueueKeys(queue: queue)
        var places: [String: [String]] = [:]  // id -> states it was seen in (ready once per copy)
        for id in try await paged("LRANGE", k.ready) { places[id, default: []].append("ready") }
        for (state, key) in [("scheduled", k.scheduled), ("retry", k.retry), ("dead", k.dead), ("done", k.done)] {
            for id in try await paged("ZRANGE", key) { places[id, default: []].append(state) }
        }
        // Leases: '<id>|<token>|<worker>'; a member of another shape is reported as the orphan it is.
        var owner: [String: String] = [:]
        for member in try await paged("ZRANGE", k.active) {
            let lease = LeaseMember(member)
            places[lease?.jobID ?? member, default: []].append("active")
            if let lease { owner[lease.jobID] = lease.worker }
        }
        let jobPrefix = k.prefix + "job:"
        let hashed = Set(try await scan(match: jobPrefix + "*").map { String($0.dropFirst(jobPrefix.count)) })
        let uniquePrefix = k.prefix + "unique:"
        let uniqueKeys = try await scan(match: uniquePrefix + "*").map { String($0.dropFirst(uniquePrefix.count)) }

        // Job ids with data: read their state field in pipelined pages.
        let ids = Array(hashed.union(places.keys)).sorted()
        var fields: [String: String] = [:]
        for page in ids.filter(hashed.contains).chunked(500) {
            let replies = try await redis.pipeline(page.map { ["HGET", .string(k.job($0)), "state"] })
            for (id, reply) in zip(page, replies) { fields[id] = reply.string ?? "" }
        }
        // Lease owners whose process record has expired (the records live outside the queue's hash slot).
        let owners = Array(Set(owner.values.filter { !$0.isEmpty }))
        var goneOwners: Set<String> = []
        for page in owners.chunked(500) {
            let replies = try await redis.pipeline(page.map { ["EXISTS", .string(QueueKeys.worker($0))] })
            for (owner, reply) in zip(page, replies) where reply.int == 0 { goneOwners.insert(owner) }
        }

        var suspects: [(kind: String, subject: String, extra: String)] = []
        for id in ids {
            let seen = places[id] ?? []
            guard let state = fields[id] else {
                if !seen.isEmpty { suspects.append(("job", id, "")) }  // an id with no data
                continue
            }
            // A lease does not write the job's hash: an active job's state field says ready.
            if seen.count != 1 || (seen[0] == "active" ? "ready" : seen[0]) != state {
                suspects.append(("job", id, ""))
            } else if seen[0] == "active", let holder = owner[id], goneOwners.contains(holder) {
                suspects.append(("job", id, holder))
            }
        }
        suspects += uniqueKeys.map { ("unique", $0, "") }

        var findings: [QueueFinding] = []
        for page in suspects.chunked(100) {
            let head: [RedisArgument] = [
                .string(k.prefix), repair ? "1" : "0", .string(utcDay()), .int(deadRetention.count), .int(deadRetention.age.milliseconds),
            ]
            let items: [RedisArgument] = page.flatMap { s -> [RedisArgument] in [.string(s.kind), .string(s.subject), .string(s.extra)] }
            let reply = try await redis.evaluate(
                QueueScripts.check,
                keys: [.string(k.ready), .string(k.scheduled), .string(k.retry), .string(k.active), .string(k.dead), .string(k.done)],
                arguments: head + items)
            let values = (reply.array ?? []).map { $0.string ?? "" }
            var i = 0
            while i + 3 < values.count {
                findings.append(
                    QueueFinding(kind: values[i], queue: queue, subject: values[i + 1], problem: values[i + 2], repair: repair ? values[i + 3] : nil))
                i += 4
            }
        }
        return findings
    }

    /// Every member of a list (`LRANGE`) or zset (`ZRANGE`), read 1,000 at a time.
    private func paged(_ command: RedisArgument, _ key: String) async throws -> [String] {
        var out: [String] = []
        while true {
            let page = (try await redis.command([command, .string(key), .int(out.count), .int(out.count + 999)]).array ?? []).compactMap(\.string)
            out += page
            if page.count < 1000 { return out }
        }
    }

    /// Every key matching `pattern`, by SCAN (never KEYS, which blocks the server on a large keyspace).
    private func scan(match pattern: String) async throws -> [String] {
        var cursor = "0"
        var keys: [String] = []
        repeat {
            let reply = try await redis.command(["SCAN", .string(cursor), "MATCH", .string(pattern), "COUNT", 1000]).array ?? []
            guard reply.count == 2, let next = reply[0].string else { throw RedisError(.protocolError, "SCAN answered with an unexpected shape") }
            cursor = next
            keys += (reply[1].array ?? []).compactMap(\.string)
        } while cursor != "0"
        return keys
    }
}

extension Array {
    /// The array in consecutive slices of at most `size` elements.
    func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
