import FoundationEssentials
import SwitchboardRedis
import Synchronization
import SwitchboardJSON

/// A job a worker holds a lease on, as the take script returned it.
struct LeasedJob: Sendable {
    let queue, id: String
    /// The lease's token: completing, failing or extending the job needs it.
    let token: String
    let attempt, maxAttempts: Int
    let name: String
    let payload: [UInt8]
    let options: StoredOptions
    /// When it became ready (server ms): pickup latency = start − this.
    let readyAtMs: Int64
    /// For a debounced job enqueued with `collect`: every payload of its burst, as a JSON array.
    var collected: [UInt8]? = nil
    /// The unique mode whose key completing the job releases, or "" when there is none to release.
    var uniqueMode: String = ""

    /// Values per job in a `take` reply and in a handed-off job.
    static let fieldCount = 9

    /// Parses `{ wait_ms, (id, token, attempt, name, payload, options, ready_ms, collected, unique)… }`. The job's
    /// max attempts come from its options' retry policy (the same number its hash keeps for the scripts).
    static func parse(_ reply: [RedisReply], queue: String) throws -> (waitMs: Int64, jobs: [LeasedJob]) {
        guard let first = reply.first, let wait = first.int, (reply.count - 1) % fieldCount == 0 else {
            throw QueueError(.unexpectedReply, "take returned a reply of the wrong shape")
        }
        var jobs: [LeasedJob] = []
        jobs.reserveCapacity((reply.count - 1) / fieldCount)
        var last: (bytes: [UInt8], options: StoredOptions)? = nil  // a batch is mostly one job type: no lookup for the rest
        var i = 1
        while i < reply.count {
            guard let id = reply[i].string, let token = reply[i + 1].int, let attempt = reply[i + 2].int, let name = reply[i + 3].string,
                let payload = reply[i + 4].bytes, let options = reply[i + 5].bytes, let ready = reply[i + 6].int, let unique = reply[i + 8].string
            else { throw QueueError(.unexpectedReply, "take returned a job of the wrong shape") }
            let stored: StoredOptions
            if let last, last.bytes == options {
                stored = last.options
            } else {
                stored = OptionsCache.options(for: options)
                last = (options, stored)
            }
            jobs.append(
                LeasedJob(
                    queue: queue, id: id, token: String(token), attempt: Int(attempt), maxAttempts: stored.retry.maxAttempts, name: name,
                    payload: payload, options: stored, readyAtMs: ready, collected: reply[i + 7].bytes, uniqueMode: unique))
            i += fieldCount
        }
        return (wait, jobs)
    }
}

extension LeasedJob {
    /// Parses a job handed off to a waiting worker: the JSON array `hand_off` pushed, with the same 9 values as
    /// a `take` reply.
    static func parseHandoff(_ bytes: [UInt8], queue: String) throws -> LeasedJob {
        guard let value = try? JSONValue.parse(bytes), value.elements.count == fieldCount else {
            throw QueueError(.unexpectedReply, "a handed-off job has the wrong shape")
        }
        let f = value.elements
        func int(_ v: JSONValue) -> Int64? { v.number.map { Int64($0) } ?? v.string.flatMap { Int64($0) } }
        guard let id = f[0].string, let token = int(f[1]), let attempt = int(f[2]), let name = f[3].string,
            let payload = f[4].string, let options = f[5].string, let ready = int(f[6]), let unique = f[8].string
        else { throw QueueError(.unexpectedReply, "a handed-off job has the wrong shape") }
        let stored = OptionsCache.options(for: Array(options.utf8))
        return LeasedJob(
            queue: queue, id: id, token: String(token), attempt: Int(attempt), maxAttempts: stored.retry.maxAttempts, name: name,
            payload: Array(payload.utf8), options: stored, readyAtMs: ready, collected: f[7].string.map { Array($0.utf8) }, uniqueMode: unique)
    }
}

/// Stored options by their JSON bytes and back: most jobs of a queue share a handful of option sets, and running
/// Foundation's JSON coders per job was a measurable share of the worker's CPU and, on an idle producer, tens of
/// microseconds of each enqueue's latency (its code is cold after a pause).
enum OptionsCache {
    /// Options JSON as a dictionary key, hashed as one buffer (`[UInt8]`'s own `hash(into:)` feeds the hasher a byte at
    /// a time, which showed in the worker's profile).
    private struct Key: Hashable {
        let bytes: [UInt8]
        func hash(into hasher: inout Hasher) { bytes.withUnsafeBytes { hasher.combine(bytes: $0) } }
    }

    private static let decoded = Mutex<[Key: StoredOptions]>([:])
    private static let encoded = Mutex<[StoredOptions: [UInt8]]>([:])

    static func options(for bytes: [UInt8]) -> StoredOptions {
        if let hit = decoded.withLock({ $0[Key(bytes: bytes)] }) { return hit }
        let parsed =
            (try? JSONDecoder().decode(StoredOptions.self, from: Data(bytes)))
            ?? StoredOptions(retry: .default, timeoutMs: StoredOptions.defaultTimeoutMs)
        decoded.withLock { c in
            if c.count >= 256 { c.removeAll() }
            c[Key(bytes: bytes)] = parsed
        }
        return parsed
    }

    static func json(for options: StoredOptions) throws(QueueError) -> [UInt8] {
        if let hit = encoded.withLock({ $0[options] }) { return hit }
        let bytes: [UInt8]
        do {
            bytes = Array(try JSONEncoder().encode(options))
        } catch {
            throw QueueError(.encodingFailed, "job options do not encode as JSON: \(type(of: error))")
        }
        encoded.withLock { c in
            if c.count >= 256 { c.removeAll() }
            c[options] = bytes
        }
        return bytes
    }
}
