/// An error from the queue. Its text never contains job parameters.
public struct QueueError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong. A closed set: the queue core and its callers live in one package, so an exhaustive
    /// `switch` over it is safe (the thin clients' codes are open structs, as their C libraries can grow).
    public enum Code: String, Sendable, Hashable, CustomStringConvertible {
        /// Options that cannot work together, or a bad queue name; nothing was enqueued.
        case invalidOptions
        /// A worker took a job whose name no handler is registered for.
        case unknownJob
        /// A job's stored parameters do not decode as its type (a changed type with the same name).
        case decodingFailed
        /// Parameters could not be encoded as JSON; nothing was enqueued.
        case encodingFailed
        /// Redis answered a queue script with a reply of the wrong shape.
        case unexpectedReply
        /// The handler ran past its soft timeout and was cancelled.
        case timedOut
        /// No job with that id (or not in the state asked for).
        case notFound

        public var description: String { rawValue }
    }

    public let code: Code
    /// What happened and what to do; never job parameters.
    public let message: String

    public init(_ code: Code, _ message: String) {
        (self.code, self.message) = (code, message)
    }

    public var description: String { "queue \(code): \(message)" }
}

/// Throw this (or wrap an error in it) from a handler to fail the job without further retries:
/// it goes straight to the dead set with the message.
public struct DoNotRetry: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Throw this from a handler to have the job run again after `delay` rather than after its retry policy's backoff:
/// a provider's `Retry-After`, or a rate limit the handler checks itself. The slot is freed at once, nothing sleeps,
/// and — like a job put back by its declared rate limit — the attempt is not used: waiting is not failing.
public struct RetryLater: Error, Sendable, CustomStringConvertible {
    public let delay: Duration
    public let reason: String
    public init(after delay: Duration, _ reason: String) {
        self.delay = max(.zero, delay)
        self.reason = reason
    }
    public var description: String { "retry in \(delay): \(reason)" }
}
