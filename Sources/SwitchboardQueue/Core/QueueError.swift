/// An error from the queue. Its text never contains job parameters.
public struct QueueError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable { case invalidOptions, unknownJob, decodingFailed, encodingFailed, unexpectedReply, timedOut, notFound }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        /// Options that cannot work together, or a bad queue name; nothing was enqueued.
        public static let invalidOptions = Code(.invalidOptions)
        /// A worker took a job whose name no handler is registered for.
        public static let unknownJob = Code(.unknownJob)
        /// A job's stored parameters do not decode as its type (a changed type with the same name).
        public static let decodingFailed = Code(.decodingFailed)
        /// Parameters could not be encoded as JSON; nothing was enqueued.
        public static let encodingFailed = Code(.encodingFailed)
        /// Redis answered a queue script with a reply of the wrong shape.
        public static let unexpectedReply = Code(.unexpectedReply)
        /// The handler ran past its soft timeout and was cancelled.
        public static let timedOut = Code(.timedOut)
        /// No job with that id (or not in the state asked for).
        public static let notFound = Code(.notFound)
        public var description: String { base.rawValue }
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
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
