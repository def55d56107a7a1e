/// An error from the PostgreSQL client. Its text never contains bound values or the connection password.
public struct PostgresError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case connectionFailed, connectionLost, server, invalidParameter, decoding, transactionState, timedOut
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        /// No connection could be opened (`DATABASE_URL` wrong, server down, authentication refused).
        public static let connectionFailed = Code(.connectionFailed)
        /// The connection broke; the statement may or may not have run.
        public static let connectionLost = Code(.connectionLost)
        /// The server refused the statement; see ``PostgresError/sqlState``.
        public static let server = Code(.server)
        /// A bound value PostgreSQL cannot take (for example a NUL byte in text); nothing was sent.
        public static let invalidParameter = Code(.invalidParameter)
        /// A column could not be decoded as the requested Swift type, or was NULL where a value was required.
        public static let decoding = Code(.decoding)
        /// A transaction was begun inside another one, or the connection was left mid-transaction.
        public static let transactionState = Code(.transactionState)
        /// Waiting (for a notification or a connection) took longer than allowed.
        public static let timedOut = Code(.timedOut)
        public var description: String { base.rawValue }
    }

    public let code: Code
    /// What happened and what to do. Server errors carry the primary message only (no DETAIL, which can hold row values).
    public let message: String
    /// The five-character SQLSTATE for server errors (`23505` unique violation, `42501` RLS refusal, …).
    public let sqlState: String?
    /// The constraint a server error names, if any.
    public let constraint: String?

    public init(_ code: Code, _ message: String, sqlState: String? = nil, constraint: String? = nil) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.constraint = constraint
    }

    public var description: String {
        var text = "PostgreSQL \(code): \(message)"
        if let sqlState { text += " (SQLSTATE \(sqlState)" + (constraint.map { ", constraint \($0)" } ?? "") + ")" }
        return text
    }

    /// True for `23505`, a unique constraint violation.
    public var isUniqueViolation: Bool { sqlState == "23505" }
}
