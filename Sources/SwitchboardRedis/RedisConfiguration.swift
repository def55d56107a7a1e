/// Where and how to reach Redis, usually parsed from `REDIS_URL`.
///
/// Accepted forms:
/// - `redis://[[user]:password@]host[:port][/db]` (port 6379 and db 0 by default)
/// - `unix:///path/to/redis.sock[?db=N&password=P&user=U]`
///
/// The password is kept out of ``description`` and of every error message.
public struct RedisConfiguration: Sendable, CustomStringConvertible {
    /// A TCP host and port, or a unix socket path.
    public enum Endpoint: Sendable, Equatable {
        case tcp(host: String, port: Int)
        case unixSocket(path: String)
    }

    public var endpoint: Endpoint
    public var username: String?
    public var password: String?
    /// Logical database selected with SELECT after connecting. Default 0.
    public var database: Int
    /// How long a TCP connect may take. Default 2 s.
    public var connectTimeout: Duration = .seconds(2)
    /// How long any non-blocking command may wait for its reply. Default 5 s.
    /// Blocking commands (BLMOVE, BLPOP, …) get their own timeout plus this margin.
    public var commandTimeout: Duration = .seconds(5)
    /// Reconnect attempts before a command fails with ``RedisError/Code/connectionFailed``. Default 6.
    public var reconnectAttempts: Int = 6
    /// First pause between reconnect attempts; doubles each time up to ``maxReconnectDelay``. Default 50 ms.
    public var initialReconnectDelay: Duration = .milliseconds(50)
    /// Longest pause between reconnect attempts. Default 1 s.
    public var maxReconnectDelay: Duration = .seconds(1)

    public init(endpoint: Endpoint, username: String? = nil, password: String? = nil, database: Int = 0) {
        self.endpoint = endpoint
        self.username = username
        self.password = password
        self.database = database
    }

    /// Parses a `redis://` or `unix://` URL.
    /// - Throws: ``RedisError`` with code ``RedisError/Code/invalidURL`` naming what is wrong (never the password).
    public init(url: String) throws(RedisError) {
        func invalid(_ why: String) -> RedisError {
            RedisError(.invalidURL, "REDIS_URL is not usable: \(why); expected redis://[user:password@]host:port/db or unix:///path/to/redis.sock")
        }
        if url.hasPrefix("unix://") {
            let rest = url.dropFirst("unix://".count)
            let (path, query) = rest.splitOnce("?")
            guard path.hasPrefix("/") else { throw invalid("a unix socket path must be absolute") }
            var db = 0
            var user: String?
            var pass: String?
            for pair in (query ?? "").split(separator: "&") {
                let (k, v) = Substring(pair).splitOnce("=")
                let value = percentDecode(v ?? "")
                switch k {
                case "db":
                    guard let n = Int(value), n >= 0 else { throw invalid("db must be a non-negative integer") }
                    db = n
                case "password": pass = value
                case "user": user = value
                default: throw invalid("unknown query parameter \"\(k)\"")
                }
            }
            self.init(endpoint: .unixSocket(path: percentDecode(path)), username: user, password: pass, database: db)
            return
        }
        guard url.hasPrefix("redis://") else { throw invalid("the scheme must be redis:// or unix://") }
        var rest = Substring(url.dropFirst("redis://".count))
        var user: String?
        var pass: String?
        if let at = rest.lastIndex(of: "@") {
            let userinfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            let (u, p) = userinfo.splitOnce(":")
            if let p {
                user = u.isEmpty ? nil : percentDecode(u)
                pass = percentDecode(p)
            } else {
                // redis://password@host is ambiguous; treat a lone userinfo as the password like redis-py does.
                pass = percentDecode(u)
            }
        }
        let (hostPort, dbPart) = rest.splitOnce("/")
        var host = String(hostPort)
        var port = 6379
        if let colon = hostPort.lastIndex(of: ":"), !hostPort.hasSuffix("]") {
            host = String(hostPort[..<colon])
            guard let p = Int(hostPort[hostPort.index(after: colon)...]), (1...65535).contains(p) else {
                throw invalid("the port must be a number from 1 to 65535")
            }
            port = p
        }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw invalid("the host is missing") }
        var db = 0
        if let dbPart, !dbPart.isEmpty {
            guard let n = Int(dbPart), n >= 0 else { throw invalid("the database after the last / must be a non-negative integer") }
            db = n
        }
        self.init(endpoint: .tcp(host: host, port: port), username: user, password: pass, database: db)
    }

    /// `host:port` or the socket path: what errors and logs name.
    public var address: String {
        switch endpoint {
        case .tcp(let host, let port): return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unixSocket(let path): return path
        }
    }

    /// The URL with the password replaced by `***`.
    public var description: String {
        let auth = password == nil ? "" : "\(username ?? ""):***@"
        switch endpoint {
        case .tcp: return "redis://\(auth)\(address)/\(database)"
        case .unixSocket(let path): return "unix://\(path)?db=\(database)"
        }
    }
}

extension Substring {
    /// Splits at the first `separator`: the part before, and the part after if there was one.
    fileprivate func splitOnce(_ separator: Character) -> (Substring, Substring?) {
        guard let i = firstIndex(of: separator) else { return (self, nil) }
        return (self[..<i], self[index(after: i)...])
    }
}

/// Decodes `%XX` escapes (passwords with `@` or `:` must be percent-encoded in a URL).
private func percentDecode(_ s: Substring) -> String {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(s.utf8.count)
    var it = Array(s.utf8)[...]
    while let b = it.popFirst() {
        if b == UInt8(ascii: "%"), it.count >= 2,
            let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16)
        {
            bytes.append(v)
            it = it.dropFirst(2)
        } else {
            bytes.append(b)
        }
    }
    return String(decoding: bytes, as: UTF8.self)
}
