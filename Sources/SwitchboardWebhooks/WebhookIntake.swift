import Synchronization
public import SwitchboardQueue

/// Hands a request's jobs to Redis, all or nothing from the provider's point of view: the caller answers 200 only
/// when this returns. If Redis does not accept them within the bound it throws ``Unavailable`` and the caller
/// answers 503, so the provider retries; every job carries a unique key, so a retry after a late success creates
/// no second job.
public struct WebhookIntake: Sendable {
    public let queue: JobQueue
    public let timeout: Duration
    /// Puts every job on this queue instead of its type's own (`ingest`); nil keeps the type's.
    public let queueName: String?

    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    public init(queue: JobQueue, timeout: Duration = .seconds(2), queueName: String? = nil) {
        self.queue = queue
        self.timeout = timeout
        self.queueName = queueName
    }

    /// Returns the job ids, in order; a duplicate (same unique key) has the id of the job it duplicates.
    @discardableResult
    public func accept(_ jobs: [JobQueue.NewJob]) async throws(Unavailable) -> [String] {
        if jobs.isEmpty { return [] }
        var routed = jobs
        if let queueName { for i in routed.indices { routed[i].options.queue = queueName } }
        let batch = routed
        let queue = self.queue
        let outcome: Result<[String], any Error>? = await firstOf(timeout: timeout) { try await queue.enqueue(jobs: batch) }
        switch outcome {
        case .success(let ids)?: return ids
        case .failure(let error)?: throw Unavailable(description: "Redis did not accept the jobs: \(error)")
        case nil: throw Unavailable(description: "Redis did not answer within \(DurationText.format(timeout))")
        }
    }
}

/// Runs `work` in its own task and returns its result, or nil once `timeout` passes first. The work is not waited
/// for after the timeout (a blocking Redis call cannot be interrupted); it finishes, or fails, on its own.
func firstOf<T: Sendable>(timeout: Duration, _ work: @escaping @Sendable () async throws -> T) async -> Result<T, any Error>? {
    await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, any Error>?, Never>) in
        let once = ResumeOnce(continuation)
        let timer = Task {
            try? await Task.sleep(for: timeout)
            if !Task.isCancelled { once.resume(nil) }
        }
        Task {
            do {
                once.resume(.success(try await work()))
            } catch {
                once.resume(.failure(error))
            }
            timer.cancel()
        }
    }
}

/// Resumes a continuation with the first value offered; later ones are ignored.
final class ResumeOnce<T: Sendable>: Sendable {
    private let state: Mutex<CheckedContinuation<T, Never>?>
    init(_ continuation: CheckedContinuation<T, Never>) { state = Mutex(continuation) }
    func resume(_ value: T) {
        let continuation = state.withLock { c in
            defer { c = nil }
            return c
        }
        continuation?.resume(returning: value)
    }
}
