/// The Redis keys of one queue. Every key carries the queue name as a hash tag (`{name}`), so all keys a script
/// touches live in one Redis Cluster slot.
///
/// | key | type | holds |
/// |---|---|---|
/// | `sb:{q}:ready` | list | ids ready to run, oldest first |
/// | `sb:{q}:scheduled` | zset | delayed ids, score = run-at (ms) |
/// | `sb:{q}:retry` | zset | ids waiting to retry, score = retry-at (ms) |
/// | `sb:{q}:active` | zset | leases `<id>\|<fencing token>\|<worker id>`, score = lease deadline (ms) |
/// | `sb:{q}:tokens` | counter | the last fencing token issued in the queue |
/// | `sb:{q}:dead` | zset | ids out of attempts, score = died-at (ms) |
/// | `sb:{q}:done` | zset | finished ids kept for the retention window, score = finished-at (ms) |
/// | `sb:{q}:job:<id>` | hash | the job: name, payload, state, attempts used, errors, options (a lease does not write it) |
/// | `sb:{q}:unique:<key>` | string | id of the job holding a unique key, or `done:<id>`: an idempotency record after it finished |
/// | `sb:{q}:series:<name>` | hash | a recurring series (scheduler entry): cursor, newest tick fired, count |
/// | `sb:{q}:outbox`, `sb:{q}:outbox:due` | hash, zset | successors of completed jobs to relay to other queues, and when a sweep may |
/// | `sb:{q}:relayed:<id>` | string | a successor relayed here (its parent's id), kept an hour against a second relay |
/// | `sb:{q}:waiters`, `sb:{q}:inbox:<worker>` | zset, list | workers waiting for a direct handoff; jobs leased to each |
/// | `sb:{q}:doorbell` | list | wake-up tokens for blocked workers |
/// | `sb:{q}:paused` | string | present while the queue is paused |
/// | `sb:{q}:stats:processed:<yyyymmdd>`, `…:failed:<day>` | counters | per day, kept 8 days |
/// | `sb:{q}:stats:stale`, `…:reclaimed`, `…:orphans` | counters | refused stale finishes, lapsed leases, ids without a hash |
/// | `sb:queues` | set | every queue name ever enqueued to (for ops) |
public struct QueueKeys: Sendable, Hashable {
    public let queue: String
    /// `sb:{queue}:`
    public let prefix: String

    public init(queue: String) {
        self.queue = queue
        self.prefix = "sb:{\(queue)}:"
    }

    /// `sb:queues`: the names of all queues enqueued to.
    public static let registry = "sb:queues"
    /// `sb:workers`: worker ids scored by their last heartbeat (ms).
    public static let workers = "sb:workers"
    /// `sb:worker:<id>`: one worker process's heartbeat record.
    public static func worker(_ id: String) -> String { "sb:worker:" + id }

    public var ready: String { prefix + "ready" }
    public var scheduled: String { prefix + "scheduled" }
    public var retry: String { prefix + "retry" }
    public var active: String { prefix + "active" }
    public var dead: String { prefix + "dead" }
    public var done: String { prefix + "done" }
    public var doorbell: String { prefix + "doorbell" }
    public var paused: String { prefix + "paused" }
    public func job(_ id: String) -> String { prefix + "job:" + id }
    /// Workers waiting for a direct handoff: member `<lease_ms>|<worker id>`, score = registration expiry (ms).
    public var waiters: String { prefix + "waiters" }
    /// Jobs handed off (already leased) to one waiting worker.
    public func inbox(_ worker: String) -> String { prefix + "inbox:" + worker }
    /// Successors of this queue's completed jobs waiting to be relayed to other queues: id → spec.
    public var outbox: String { prefix + "outbox" }
    /// When each outbox entry may be relayed by a sweep (ms).
    public var outboxDue: String { prefix + "outbox:due" }
    /// The record that a successor was relayed here (its parent's id), for ``WorkerOptions/relayRecordTTL``.
    public func relayed(_ id: String) -> String { prefix + "relayed:" + id }
    public func unique(_ key: String) -> String { prefix + "unique:" + key }
    /// A recurring series' record (a scheduler entry's cursor and last fire).
    public func series(_ name: String) -> String { prefix + "series:" + name }
    public func processed(day: String) -> String { prefix + "stats:processed:" + day }
    public func failed(day: String) -> String { prefix + "stats:failed:" + day }
    /// Today's (UTC) processed counter.
    public var processedToday: String { processed(day: utcDay()) }
    /// Today's (UTC) failed counter.
    public var failedToday: String { failed(day: utcDay()) }
    public var stale: String { prefix + "stats:stale" }
    public var reclaimed: String { prefix + "stats:reclaimed" }

    /// A user key that becomes a Redis Cluster hash tag (a lock's, a rate limit's): 1–200 characters without `{` or
    /// `}`. `what` names it in the error ("lock key").
    public static func validateTag(_ key: String, what: String) throws(QueueError) {
        guard (1...200).contains(key.count), !key.contains("{"), !key.contains("}") else {
            throw QueueError(.invalidOptions, "\(what) \"\(key)\" must be 1-200 characters without { or }")
        }
    }

    /// A queue name: letters, digits, `-`, `_`, `.`; 1–64 characters (it becomes part of every key).
    public static func validate(_ queue: String) throws(QueueError) {
        // By bytes, not Characters: Unicode property lookups are a cold, long path on every enqueue.
        let valid =
            (1...64).contains(queue.utf8.count)
            && queue.utf8.allSatisfy { b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x5F || b == 0x2E
            }
        guard valid else {
            throw QueueError(.invalidOptions, "queue name \"\(queue)\" must be 1-64 letters, digits, '-', '_' or '.'")
        }
    }
}
