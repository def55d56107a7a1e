/// A transport failure: no HTTP response arrived. (A 4xx/5xx is a response, not an error.)
public struct HTTPClientError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case invalidRequest, connectionRefused, hostNotFound, timedOut, tlsFailure, responseTooLarge, transport, cancelled
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        /// The URL or method could not be used; nothing was sent.
        public static let invalidRequest = Code(.invalidRequest)
        /// Nothing listens at that host and port (or a firewall refused).
        public static let connectionRefused = Code(.connectionRefused)
        /// The host name did not resolve.
        public static let hostNotFound = Code(.hostNotFound)
        /// The connect timeout or the total timeout passed.
        public static let timedOut = Code(.timedOut)
        /// TLS failed: handshake, or the certificate did not verify.
        public static let tlsFailure = Code(.tlsFailure)
        /// The body went past the request's `maxResponseBytes`.
        public static let responseTooLarge = Code(.responseTooLarge)
        /// The calling task was cancelled (a job's soft timeout, a shutdown); the transfer was aborted.
        public static let cancelled = Code(.cancelled)
        /// Any other transport failure; ``HTTPClientError/curlCode`` says which.
        public static let transport = Code(.transport)
        public var description: String { base.rawValue }
    }

    public let code: Code
    public let message: String
    /// libcurl's `CURLcode`, for diagnosis.
    public let curlCode: Int

    public init(_ code: Code, _ message: String, curlCode: Int = 0) {
        self.code = code
        self.message = message
        self.curlCode = curlCode
    }

    public var description: String { "HTTP \(code): \(message)" }
}
