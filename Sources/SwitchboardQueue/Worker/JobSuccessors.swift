import FoundationEssentials
import Synchronization
import SwitchboardJSON

/// One job a handler asked to enqueue when it succeeds: its queue and its spec, the JSON `complete.lua` stores
/// (`{id, queue, name, payload, delay_ms, max_attempts, options, parent}`).
struct Successor: Sendable {
    let id: String
    let queue: String
    let spec: [UInt8]
}

/// The successors a running handler has asked for; stored with its completion, dropped if it fails.
final class SuccessorList: Sendable {
    private let items = Mutex<[Successor]>([])
    static let maxCount = 1_000

    func append(_ successor: Successor) throws(QueueError) {
        try items.withLock { (list: inout [Successor]) throws(QueueError) in
            guard list.count < Self.maxCount else {
                throw QueueError(.invalidOptions, "a job can have at most \(Self.maxCount) successors; enqueue a fan-out job that enqueues the rest")
            }
            list.append(successor)
        }
    }

    var all: [Successor] { items.withLock { $0 } }

    private let joinResult = Mutex<[UInt8]?>(nil)
    /// What a join member hands its join (``JobContext/setJoinResult(_:)``).
    func setResult(_ json: [UInt8]) { joinResult.withLock { $0 = json } }
    var result: [UInt8]? { joinResult.withLock { $0 } }
}

extension JobContext {
    /// Enqueues `parameters` when this job succeeds, in the same atomic step as its completion: if the job fails, is
    /// cancelled or loses its lease, no successor exists; if it completes, each successor is created exactly once, even
    /// when the worker dies right after the completion. Call it any number of times (fan-out, up to 1,000); pass this
    /// job's result in the successor's parameters.
    ///
    /// A successor on this job's queue is created by the completion itself. One on another queue (another Redis
    /// Cluster slot) waits in this queue's outbox and is relayed by the completing worker at once; if that worker
    /// dies first, any worker on this queue relays it within about ``WorkerOptions/relayGrace`` plus a heartbeat.
    ///
    /// A successor may carry a debounce key (``JobOptions/debounce``, with `collect`): it then joins the key's pending
    /// job like any debounced enqueue — ingest's successor `coalesce-turn`, debounced per conversation, turns a burst
    /// of messages into one job that collects them all, each message exactly once. Or a unique key
    /// (``JobOptions/unique``): it is not created while another job holds the key. `delay` counts from when it is
    /// created (not with debounce).
    public func enqueueOnSuccess<P: JobParameters>(_ parameters: P, options: JobOptions = .init()) throws(QueueError) {
        try enqueueOnSuccess(name: P.jobName, payload: try encodeParameters(parameters), options: options.resolved(for: parameters))
    }

    /// The untyped form of ``enqueueOnSuccess(_:options:)``: a job name and its JSON parameters.
    public func enqueueOnSuccess(name: String, payload: [UInt8], options: JobOptions = .init()) throws(QueueError) {
        guard !name.isEmpty else { throw QueueError(.invalidOptions, "a job needs a name") }
        guard (try? JSONValue.parse(payload)) != nil else {
            throw QueueError(.encodingFailed, "the parameters of successor \(name) are not valid JSON")
        }
        if let debounce = options.debounce {
            guard options.unique == nil, options.delay == nil else {
                throw QueueError(.invalidOptions, "a debounced successor cannot also have a unique key or a delay")
            }
            try debounce.validate()
        }
        if let unique = options.unique, unique.key.isEmpty || unique.ttl <= .zero {
            throw QueueError(.invalidOptions, "a unique key needs at least one character and a TTL above zero")
        }
        let queue = options.queue ?? "default"
        let stored = try options.stored()
        let optionsJSON = try OptionsCache.json(for: stored)
        let id = JobID.make()
        var spec: [String: JSONValue] = [
            "id": .string(id), "queue": .string(queue), "name": .string(name), "parent": .string(self.id),
            "payload": .string(String(decoding: payload, as: UTF8.self)), "options": .string(String(decoding: optionsJSON, as: UTF8.self)),
            "delay_ms": .number(Double(max(0, options.delay?.milliseconds ?? 0))), "max_attempts": .number(Double(stored.retry.maxAttempts)),
        ]
        if let d = options.debounce {
            spec["debounce"] = .object([
                "key": .string(d.key), "window_ms": .number(Double(d.window.milliseconds)), "max_wait_ms": .number(Double(d.maxWait.milliseconds)),
                "collect": .bool(d.collect),
            ])
        }
        if let u = options.unique {
            spec["unique"] = .object(["key": .string(u.key), "mode": .string(u.mode.rawValue), "ttl_ms": .number(Double(u.ttl.milliseconds))])
        }
        try successors.append(Successor(id: id, queue: queue, spec: JSONValue.object(spec).serialized()))
    }
}
