import CCurl
import NIOPosix
import Synchronization

/// Outbound HTTP over libcurl, each request run on one of the client's own threads so the transfer never blocks
/// Swift's cooperative pool. Fit for LLM calls from jobs:
/// - **cancellable:** cancelling the calling task (a job's soft timeout, a shutdown) aborts the transfer within about
///   20 ms and throws ``HTTPClientError/Code/cancelled``; the thread is free again at once;
/// - **connections reused:** each of the pool's sessions keeps its connections (and TLS sessions) open between
///   requests, so a burst of calls to one provider does not repeat the TCP and TLS handshakes;
/// - **deadlines:** ``Request/deadline`` (a job's soft deadline) shortens the request's timeout to what is left.
/// TLS peer and host verification are always on; only `http` and `https` URLs are followed; redirects are not.
///
/// ```swift
/// let http = HTTPClient()
/// let response = try await http.execute(.init(method: "POST", url: "https://api.example.com/v1/x",
///                                             headers: [.init("Content-Type", "application/json")], body: Array(json.utf8)))
/// ```
public final class HTTPClient: Sendable {
    /// A request: value type, built by the caller.
    public struct Request: Sendable {
        public var method: String
        public var url: String
        public var headers: [HeaderField]
        public var body: [UInt8]?
        /// Time allowed to open the connection (TCP + TLS). Default 5 s.
        public var connectTimeout: Duration
        /// Time allowed for the whole exchange, connect included. Default 30 s.
        public var timeout: Duration
        /// Larger bodies fail with ``HTTPClientError/Code/responseTooLarge``. Default 16 MiB.
        public var maxResponseBytes: Int
        /// The latest moment the exchange may end (a job's `JobContext.deadline`): the timeout is cut to what is left,
        /// and a deadline already past fails at once with ``HTTPClientError/Code/timedOut``. Default none.
        public var deadline: ContinuousClock.Instant?

        public init(
            method: String = "GET", url: String, headers: [HeaderField] = [], body: [UInt8]? = nil,
            connectTimeout: Duration = .seconds(5), timeout: Duration = .seconds(30), maxResponseBytes: Int = 16 << 20,
            deadline: ContinuousClock.Instant? = nil
        ) {
            self.deadline = deadline
            self.method = method
            self.url = url
            self.headers = headers
            self.body = body
            self.connectTimeout = connectTimeout
            self.timeout = timeout
            self.maxResponseBytes = maxResponseBytes
        }
    }

    /// One header line.
    public struct HeaderField: Sendable, Hashable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// What the server answered, whatever the status.
    public struct Response: Sendable {
        public let status: Int
        /// Headers of the final response, in order.
        public let headers: [HeaderField]
        public let body: [UInt8]
        /// Connections opened for this exchange: 0 when it reused one kept from an earlier request.
        public var newConnections: Int = 0

        /// The first header with this name, compared case-insensitively.
        public func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }
        /// The body decoded as UTF-8.
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    private let threads: NIOThreadPool
    private let idle = Mutex<[CurlSession]>([])

    /// - Parameter poolSize: requests in flight at once, each on a thread of its own with a session that keeps its
    ///   connections between requests. Default 4.
    public init(poolSize: Int = 4) {
        precondition(poolSize > 0, "an HTTP client needs at least one thread")
        CurlGlobal.ensureInitialized()
        threads = NIOThreadPool(numberOfThreads: poolSize)
        threads.start()
    }

    /// Sends `request` and returns the response, for any status code.
    /// - Throws: ``HTTPClientError`` when no response arrived (refused, timed out, cancelled, TLS, …).
    public func execute(_ request: Request) async throws -> Response {
        var timeout = request.timeout
        if let deadline = request.deadline {
            let left = deadline - .now
            guard left > .milliseconds(1) else {
                throw HTTPClientError(.timedOut, "\(request.method) \(hostPart(of: request.url)) was not sent: its deadline had passed")
            }
            timeout = min(timeout, left)
        }
        let cancel = CancelFlag()
        return try await withTaskCancellationHandler {
            try await threads.runIfActive { [timeout] in
                let session = self.idle.withLock { $0.popLast() } ?? CurlSession()
                defer { self.idle.withLock { $0.append(session) } }
                return try session.perform(request, timeout: timeout, cancel: cancel)
            }
        } onCancel: {
            cancel.cancel()
        }
    }

    /// Stops the threads once requests in flight have ended; the sessions close their connections.
    public func shutdown() async throws {
        try await threads.shutdownGracefully()
        idle.withLock { $0.removeAll() }
    }
}

/// `curl_global_init` exactly once per process, before any handle exists (a `static let` runs once, thread-safely).
enum CurlGlobal {
    private static let code: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    static func ensureInitialized() { precondition(code == CURLE_OK, "curl_global_init failed") }
}
