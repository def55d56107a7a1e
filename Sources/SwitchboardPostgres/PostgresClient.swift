import NIOPosix
import Synchronization

/// A small pool of ``PostgresConnection``s used on the client's own threads, so blocking libpq calls never
/// run on Swift's cooperative pool or an event loop. Connections open lazily, at most `maxConnections`.
///
/// ```swift
/// let db = PostgresClient(url: databaseURL, maxConnections: 4)
/// let rows = try await db.query("SELECT name FROM tenants WHERE id = $1", [.uuid(id)])
/// try await db.transaction { conn in try conn.execute("UPDATE …", [...]) }
/// ```
public final class PostgresClient: Sendable {
    private let url: String
    private let threads: NIOThreadPool
    private let idle: Mutex<[PostgresConnection]>

    /// - Parameters:
    ///   - url: `DATABASE_URL` (`postgresql://user[:password]@host:port/database`).
    ///   - maxConnections: threads and connections used at once. Default 4.
    public init(url: String, maxConnections: Int = 4) {
        precondition(maxConnections > 0, "a PostgreSQL client needs at least one connection")
        self.url = url
        self.threads = NIOThreadPool(numberOfThreads: maxConnections)
        self.idle = Mutex([])
        threads.start()
    }

    /// Runs `body` with a connection on one of the client's threads. `body` may block.
    /// A connection left inside a transaction is discarded, not returned to the pool.
    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await threads.runIfActive {
            let connection = try self.idle.withLock { $0.popLast() } ?? PostgresConnection(url: self.url)
            defer { if !connection.inTransaction { self.idle.withLock { $0.append(connection) } } }
            return try body(connection)
        }
    }

    @discardableResult
    public func query(_ sql: String, _ binds: [PostgresValue] = []) async throws -> PostgresRows {
        try await withConnection { try $0.query(sql, binds) }
    }

    @discardableResult
    public func execute(_ sql: String, _ binds: [PostgresValue] = []) async throws -> Int {
        try await withConnection { try $0.execute(sql, binds) }
    }

    /// Runs `body` in a transaction on one connection: COMMIT on return, ROLLBACK on a thrown error.
    @discardableResult
    public func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await withConnection { try $0.transaction(body) }
    }

    /// Stops the threads and closes the idle connections.
    public func shutdown() async throws {
        try await threads.shutdownGracefully()
        idle.withLock { $0.removeAll() }
    }
}
