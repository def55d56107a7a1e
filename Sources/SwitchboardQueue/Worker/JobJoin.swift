import FoundationEssentials
import SwitchboardJSON

/// A job's place in a fan-in (``JobContext/enqueueOnSuccess(members:thenJoin:)``), stored in its options: the join's
/// id and queue, how many members it waits for, this member's index, and the joining job's spec.
struct JoinMembership: Codable, Sendable, Hashable {
    let id: String
    let queue: String
    let n: Int
    let index: Int
    /// JSON `{id, name, payload, options, max_attempts}` of the job to create when every member has succeeded.
    let spec: String
}

/// One member's outcome as the joining job reads it (``JobContext/joinResults(_:)``).
struct JoinArrival: Decodable {
    let id: String
    let index: Int
    let result: JSONValue?
}

extension JobContext {
    /// Fan-in (a chord): when this job succeeds, `members` are enqueued (each on its own queue, as successors are), and
    /// once **every** member has succeeded, `join` runs exactly once, with each member's result
    /// (``setJoinResult(_:)``) readable through ``joinResults(_:)`` in member order. Returns the join's id.
    ///
    /// The join's record lives in `join`'s queue (its Redis Cluster slot); a member on another queue reports its
    /// arrival through its queue's outbox, relayed exactly once like any successor, so the set may span queues. The
    /// arrival is stored in the same step as the member's completion: a member that crashes after its work runs again
    /// and arrives once. A member that dies (out of attempts) ends the join in state `failed` (``QueueInspector/join(_:queue:)``
    /// names the member and its error) and `join` is never created.
    ///
    /// Members cannot be debounced or unique; `join` cannot be debounced, unique or delayed.
    @discardableResult
    public func enqueueOnSuccess(members: [JobQueue.NewJob], thenJoin join: JobQueue.NewJob) throws(QueueError) -> String {
        guard !members.isEmpty, members.count <= SuccessorList.maxCount else {
            throw QueueError(.invalidOptions, "a join needs 1 to \(SuccessorList.maxCount) members")
        }
        guard join.options.debounce == nil, join.options.unique == nil, join.options.delay == nil else {
            throw QueueError(.invalidOptions, "the joining job cannot be debounced, unique or delayed")
        }
        guard !join.name.isEmpty, (try? JSONValue.parse(join.payload)) != nil else {
            throw QueueError(.encodingFailed, "the joining job needs a name and JSON parameters")
        }
        let stored = try join.options.stored()
        let spec = JSONValue.object([
            "id": .string(JobID.make()), "name": .string(join.name), "payload": .string(String(decoding: join.payload, as: UTF8.self)),
            "options": .string(String(decoding: try OptionsCache.json(for: stored), as: UTF8.self)),
            "max_attempts": .number(Double(stored.retry.maxAttempts)),
        ]).serialized()
        let joinID = JobID.make()
        for (index, member) in members.enumerated() {
            guard member.options.debounce == nil, member.options.unique == nil else {
                throw QueueError(.invalidOptions, "a join's members cannot be debounced or unique")
            }
            var options = member.options
            options.join = JoinMembership(
                id: joinID, queue: join.options.queue ?? "default", n: members.count, index: index, spec: String(decoding: spec, as: UTF8.self))
            try enqueueOnSuccess(name: member.name, payload: member.payload, options: options)
        }
        return joinID
    }

    /// For a join's member: the result its joining job reads (any JSON value). The last call wins; without one, the
    /// member's result is `null`.
    public func setJoinResult<R: Encodable>(_ result: R) throws(QueueError) {
        do {
            successors.setResult(Array(try JSONEncoder().encode(result)))
        } catch {
            throw QueueError(.encodingFailed, "the join result does not encode as JSON: \(type(of: error))")
        }
    }

    /// For a joining job: each member's result in member order (nil for a member that set none). Empty for any other
    /// job.
    public func joinResults<R: Decodable>(_ resultType: R.Type) throws -> [R?] {
        guard let collectedJSON else { return [] }
        do {
            let arrivals = try JSONDecoder().decode([JoinArrival].self, from: Data(collectedJSON))
            return try arrivals.sorted { $0.index < $1.index }.map { arrival in
                guard let result = arrival.result, result != .null else { return nil }
                return try JSONDecoder().decode(R.self, from: Data(result.serialized()))
            }
        } catch {
            throw DoNotRetry("the join results do not decode as \(R.self): \(type(of: error))")
        }
    }
}

extension LeasedJob {
    /// The arrival a join member's completion stores for its join (a successor of kind `arrive`).
    func arrival(_ join: JoinMembership, result: [UInt8]?) -> Successor {
        let id = "\(join.id):\(self.id)"
        let spec = JSONValue.object([
            "kind": .string("arrive"), "id": .string(id), "queue": .string(join.queue), "join": .string(join.id), "member": .string(self.id),
            "n": .number(Double(join.n)), "index": .number(Double(join.index)), "target": .string(join.spec), "parent": .string(self.id),
            "result": .string(result.map { String(decoding: $0, as: UTF8.self) } ?? "null"),
        ]).serialized()
        return Successor(id: id, queue: join.queue, spec: spec)
    }
}
