import FoundationEssentials
public import Logging
import Synchronization

/// What a handler knows about the run it is in.
public struct JobContext: Sendable {
    public let id: String
    public let name: String
    public let queue: String
    /// 1 on the first run.
    public let attempt: Int
    public let maxAttempts: Int
    /// Strictly increasing per job with every lease. Pass it to stores that should refuse writes from a worker
    /// whose lease was taken over (compare-and-set on the token).
    public let fencingToken: Int64
    /// For a job that runs under a lock (``JobParameters/lockKey``): the lock's fencing number, strictly increasing
    /// per lock key. Nil otherwise. Hand it with ``lockKey`` to a store's fenced write (`withTenant(_:fencedBy:fence:_:)`).
    public var lockFence: Int64? = nil
    /// The lock the job runs under, if any.
    public var lockKey: String? = nil
    /// When the soft timeout cancels this run (``JobParameters/timeout``): pass it as the deadline of outbound calls
    /// (`HTTPClient.Request.deadline`) so they end with the job instead of being cut off by it.
    public var deadline: ContinuousClock.Instant = .now + .seconds(300)
    /// When the job became ready to run (ms since 1970, Redis clock): for a delayed or debounced job, its run time —
    /// for a debounced one, the moment its burst's window closed.
    public var readyAtMs: Int64 = 0
    /// For a job under a rate limit (``JobParameters/rateLimit``): when the limiter admitted it (µs, Redis clock).
    public var rateAdmittedAtMicros: Int64? = nil
    /// Carries `job.id`, `job.name`, `job.attempt` and `queue` metadata. Built on first use: setting four metadata
    /// keys on every job showed in a busy worker's profile (the stream handler re-renders its metadata on each set).
    public var logger: Logger {
        get { ownLogger ?? lazyLogger.logger }
        set { ownLogger = newValue }
    }
    var ownLogger: Logger? = nil
    let lazyLogger: JobLogger
    /// What ``enqueueOnSuccess(_:options:)`` collected.
    let successors = SuccessorList()
    /// A collecting debounced job's burst (JSON array of payloads), or a joining job's arrivals.
    var collectedJSON: [UInt8]? = nil

    /// For a job debounced with ``DebounceOptions/collect``: the parameters of every enqueue of its burst, oldest
    /// first (the last one is also the job's own parameters). Empty for any other job.
    public func collected<P: JobParameters>(_ parameters: P.Type) throws -> [P] {
        guard let collectedJSON else { return [] }
        do {
            return try JSONDecoder().decode([P].self, from: Data(collectedJSON))
        } catch {
            throw DoNotRetry("collected parameters of \(P.jobName) do not decode as \(P.self): \(type(of: error))")
        }
    }
}

/// A job's logger, made from the worker's on first use and then kept.
final class JobLogger: Sendable {
    private let base: Logger
    private let id: String, name: String, attempt: Int, queue: String
    private let made = Mutex<Logger?>(nil)

    init(base: Logger, id: String, name: String, attempt: Int, queue: String) {
        (self.base, self.id, self.name, self.attempt, self.queue) = (base, id, name, attempt, queue)
    }

    /// Whether the worker's logger emits `level` (checking costs nothing; building the job's logger does).
    func emits(_ level: Logger.Level) -> Bool { base.logLevel <= level }

    var logger: Logger {
        made.withLock { made in
            if let made { return made }
            var logger = base
            // One assignment of the merged metadata: the handler renders it once, not once per key.
            let metadata: Logger.Metadata = ["job.id": "\(id)", "job.name": "\(name)", "job.attempt": "\(attempt)", "queue": "\(queue)"]
            logger.handler.metadata.merge(metadata) { _, new in new }
            made = logger
            return logger
        }
    }
}
