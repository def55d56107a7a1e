import CCurl
import NIOPosix

/// Outbound HTTP over libcurl (easy interface), one easy handle per request, each run on one of the
/// client's own threads so `curl_easy_perform` never blocks Swift's cooperative pool.
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

        public init(
            method: String = "GET", url: String, headers: [HeaderField] = [], body: [UInt8]? = nil,
            connectTimeout: Duration = .seconds(5), timeout: Duration = .seconds(30), maxResponseBytes: Int = 16 << 20
        ) {
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

        /// The first header with this name, compared case-insensitively.
        public func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }
        /// The body decoded as UTF-8.
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    private let threads: NIOThreadPool

    /// - Parameter maxConcurrentRequests: requests in flight at once (each holds a thread). Default 4.
    public init(maxConcurrentRequests: Int = 4) {
        CurlGlobal.ensureInitialized()
        threads = NIOThreadPool(numberOfThreads: maxConcurrentRequests)
        threads.start()
    }

    /// Sends `request` and returns the response, for any status code.
    /// - Throws: ``HTTPClientError`` when no response arrived (refused, timed out, TLS, …).
    public func execute(_ request: Request) async throws -> Response {
        try await threads.runIfActive { try CurlEasy().perform(request) }
    }

    public func shutdown() async throws {
        try await threads.shutdownGracefully()
    }
}

/// `curl_global_init` exactly once per process, before any handle exists (a `static let` runs once, thread-safely).
enum CurlGlobal {
    private static let code: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    static func ensureInitialized() { precondition(code == CURLE_OK, "curl_global_init failed") }
}
