import FoundationEssentials
import Synchronization

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
    /// Successors cannot carry a unique key or debounce (they are exactly-once already); `delay` counts from when they
    /// are created.
    public func enqueueOnSuccess<P: JobParameters>(_ parameters: P, options: JobOptions = .init()) throws(QueueError) {
        let payload: [UInt8]
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            payload = Array(try encoder.encode(parameters))
        } catch {
            throw QueueError(.encodingFailed, "parameters of \(P.jobName) do not encode as JSON: \(type(of: error))")
        }
        try enqueueOnSuccess(name: P.jobName, payload: payload, options: options.resolved(for: parameters))
    }

    /// The untyped form of ``enqueueOnSuccess(_:options:)``: a job name and its JSON parameters.
    public func enqueueOnSuccess(name: String, payload: [UInt8], options: JobOptions = .init()) throws(QueueError) {
        guard options.unique == nil, options.debounce == nil else {
            throw QueueError(.invalidOptions, "a successor cannot have a unique key or debounce: it is created exactly once with its parent's completion")
        }
        guard !name.isEmpty else { throw QueueError(.invalidOptions, "a job needs a name") }
        guard (try? JSONValue.parse(payload)) != nil else {
            throw QueueError(.encodingFailed, "the parameters of successor \(name) are not valid JSON")
        }
        let queue = options.queue ?? "default"
        let stored = try options.stored()
        let optionsJSON: [UInt8]
        do { optionsJSON = Array(try JSONEncoder().encode(stored)) } catch {
            throw QueueError(.encodingFailed, "the options of successor \(name) do not encode: \(type(of: error))")
        }
        let id = JobID.make()
        let spec = JSONValue.object([
            "id": .string(id), "queue": .string(queue), "name": .string(name), "parent": .string(self.id),
            "payload": .string(String(decoding: payload, as: UTF8.self)), "options": .string(String(decoding: optionsJSON, as: UTF8.self)),
            "delay_ms": .number(Double(max(0, options.delay?.milliseconds ?? 0))), "max_attempts": .number(Double(stored.retry.maxAttempts)),
        ]).serialized()
        try successors.append(Successor(id: id, queue: queue, spec: spec))
    }
}
