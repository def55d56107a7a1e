public import SwitchboardQueue
public import Jobs

/// Hands a request's jobs to Redis, all or nothing from the provider's point of view: the caller answers 200 only
/// when this returns. Jobs of concurrent requests travel together (``EnqueueBatcher``: one pipelined round trip
/// for everything that arrived meanwhile). If Redis does not accept them within the bound this throws
/// ``Unavailable`` and the caller answers 503, so the provider retries; every job carries a unique key, so a retry
/// after a late success creates no second job.
public struct WebhookIntake: Sendable {
    public let batcher: EnqueueBatcher
    public let timeout: Duration
    /// Puts every job on this queue instead of its type's own (`ingest`); nil keeps the type's.
    public let queueName: String?
    /// Marks each accepted message until ingest stores it (``IntakeMarks``, sent ahead of its job in the enqueue's
    /// round trip), so a burst's turn waits for a late one. Default false: marks nothing.
    public let marksMessages: Bool

    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    public init(batcher: EnqueueBatcher, timeout: Duration = .seconds(2), queueName: String? = nil, marksMessages: Bool = false) {
        self.batcher = batcher
        self.timeout = timeout
        self.queueName = queueName
        self.marksMessages = marksMessages
    }

    /// Returns the job ids, in order; a duplicate (same unique key) has the id of the job it duplicates.
    @discardableResult
    public func accept(_ jobs: [JobQueue.NewJob], marks messages: [IntakeMark] = []) async throws(Unavailable) -> [String] {
        if jobs.isEmpty { return [] }
        // The marks go ahead of the jobs in the same round trip: a mark never trails its job (a mark without a job
        // goes stale), and marking costs no trip of its own.
        let before = marksMessages && !messages.isEmpty ? IntakeMarks.commands(marking: messages) : []
        var routed = jobs
        if let queueName { for i in routed.indices { routed[i].options.queue = queueName } }
        switch await batcher.submit(routed, before: before, timeout: timeout) {
        case .success(let ids)?: return ids
        case .failure(let error)?: throw Unavailable(description: "Redis did not accept the jobs: \(error)")
        case nil: throw Unavailable(description: "Redis did not answer within \(DurationText.format(timeout))")
        }
    }
}
