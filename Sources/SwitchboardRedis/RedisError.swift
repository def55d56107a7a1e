/// An error from the Redis client. Its text names the server address, never the password or command values.
public struct RedisError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is; switch on it to decide whether to retry.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case invalidURL, connectionFailed, authenticationFailed, connectionLost, timedOut, serverError, protocolError
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        /// `REDIS_URL` could not be parsed.
        public static let invalidURL = Code(.invalidURL)
        /// No connection could be opened after all reconnect attempts.
        public static let connectionFailed = Code(.connectionFailed)
        /// AUTH was refused: the user or password in `REDIS_URL` is wrong.
        public static let authenticationFailed = Code(.authenticationFailed)
        /// The connection broke while a command was in flight; it may or may not have run.
        public static let connectionLost = Code(.connectionLost)
        /// No reply within the command timeout; the command may or may not have run.
        public static let timedOut = Code(.timedOut)
        /// The server answered with an error reply (`-ERR …`, `-WRONGTYPE …`, a Lua error).
        public static let serverError = Code(.serverError)
        /// The reply did not have the shape the caller expected.
        public static let protocolError = Code(.protocolError)
        public var description: String { base.rawValue }
    }

    public let code: Code
    /// Human-readable detail: what happened, where, and what to do.
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "Redis \(code): \(message)" }

    /// For a ``Code/serverError``: the error's first word (`NOSCRIPT`, `WRONGTYPE`, `ERR`, …).
    public var serverErrorPrefix: Substring? {
        code == .serverError ? message.prefix(while: { $0 != " " }) : nil
    }
}
