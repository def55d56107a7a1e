import FoundationEssentials
import SwitchboardRedis
import Synchronization

/// A job a worker holds a lease on, as the take script returned it.
struct LeasedJob: Sendable {
    let queue: String
    let id: String
    let token: String
    let attempt: Int
    let maxAttempts: Int
    let name: String
    let payload: [UInt8]
    let options: StoredOptions
    /// When it became ready (server ms): pickup latency = start − this.
    let readyAtMs: Int64
    /// For a debounced job enqueued with `collect`: every payload of its burst, as a JSON array.
    var collected: [UInt8]? = nil

    /// Parses `{ wait_ms, (id, token, attempt, max_attempts, name, payload, options, ready_ms, collected)… }`.
    static func parse(_ reply: [RedisReply], queue: String) throws -> (waitMs: Int64, jobs: [LeasedJob]) {
        guard let first = reply.first, let wait = first.int, (reply.count - 1) % 9 == 0 else {
            throw QueueError(.unexpectedReply, "take returned a reply of the wrong shape")
        }
        var jobs: [LeasedJob] = []
        var i = 1
        let decoder = JSONDecoder()
        while i < reply.count {
            let f = reply[i..<(i + 9)].map { $0 }
            guard let id = f[0].string, let token = f[1].int, let attempt = f[2].int, let max = f[3].int, let name = f[4].string,
                let payload = f[5].bytes, let options = f[6].bytes, let ready = f[7].int
            else { throw QueueError(.unexpectedReply, "take returned a job of the wrong shape") }
            let stored = OptionsCache.options(for: options, decoder: decoder)
            jobs.append(LeasedJob(
                queue: queue, id: id, token: String(token), attempt: Int(attempt), maxAttempts: Int(max), name: name,
                payload: payload, options: stored, readyAtMs: ready, collected: f[8].bytes))
            i += 9
        }
        return (wait, jobs)
    }
}

/// Parsed options by their JSON bytes: most jobs of a queue share a handful of option sets, and decoding JSON per
/// job was a measurable share of the worker's CPU.
enum OptionsCache {
    private static let cache = Mutex<[[UInt8]: StoredOptions]>([:])

    static func options(for bytes: [UInt8], decoder: JSONDecoder) -> StoredOptions {
        if let hit = cache.withLock({ $0[bytes] }) { return hit }
        let parsed = (try? decoder.decode(StoredOptions.self, from: Data(bytes))) ?? StoredOptions(retry: .default, timeoutMs: 300_000)
        cache.withLock { c in
            if c.count >= 256 { c.removeAll() }
            c[bytes] = parsed
        }
        return parsed
    }
}
