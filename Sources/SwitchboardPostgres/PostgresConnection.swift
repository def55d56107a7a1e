import CLibPQ
import Glibc
import Synchronization

/// A notification received on a LISTENed channel.
public struct PostgresNotification: Sendable, Hashable {
    public let channel: String
    public let payload: String
    /// The backend pid of the session that sent NOTIFY.
    public let senderPID: Int32
}

/// One blocking libpq connection.
///
/// Every call blocks the calling thread, so use it from a thread that may block — ``PostgresClient``
/// runs it on its own threads. Statements are always parameterised; one with parameters is prepared on the session the
/// first time it runs (`PQprepare`, then `PQexecPrepared`; at most ``preparedLimit`` per session, the rest run
/// unprepared through `PQexecParams`), so the hot statements of a job are parsed and analysed once per connection, not
/// on every call. The session runs
/// with `TimeZone=UTC`, `DateStyle=ISO` and `client_min_messages=warning` (libpq would print NOTICEs to stderr). A broken connection is reset before the next statement.
/// The `PGconn` is owned here alone, guarded by a mutex, and finished in `deinit`.
public final class PostgresConnection: Sendable {
    private let handle: Mutex<Handle>
    /// `host:port/database` for messages (never the password).
    public let address: String

    private struct Handle: ~Copyable {
        let conn: OpaquePointer
        /// Statements prepared on this session, by text and parameter types.
        var prepared: [PreparedKey: String] = [:]
        /// Names are never reused on a session (a forgotten statement may still exist on the server).
        var preparedCount = 0
        deinit { PQfinish(conn) }
    }

    private struct PreparedKey: Hashable {
        let sql: String
        let types: [Oid]
    }

    /// Prepared statements kept per session: the code's statements are a fixed set, well under this; SQL built at run
    /// time past it runs unprepared.
    public static let preparedLimit = 256

    /// Connects to `url` (a `postgresql://` URL or a libpq keyword string).
    /// - Throws: ``PostgresError/Code/connectionFailed`` with libpq's reason.
    public init(url: String) throws {
        guard let conn = PQconnectdb(url) else {
            throw PostgresError(.connectionFailed, "libpq could not allocate a connection")
        }
        let h = Handle(conn: conn)  // owns conn from here on: PQfinish runs even on failure
        let address = "\(cString(PQhost(conn))):\(cString(PQport(conn)))/\(cString(PQdb(conn)))"
        guard PQstatus(conn) == CONNECTION_OK else {
            throw PostgresError(
                .connectionFailed, "cannot connect to \(address): \(lastError(conn)); check DATABASE_URL and that PostgreSQL is running")
        }
        self.address = address
        self.handle = Mutex(h)
        try handle.withLock { h in try Self.prepareSession(h.conn, address: address) }
    }

    private static func prepareSession(_ conn: OpaquePointer, address: String) throws {
        let res = PQexec(conn, "SET TIME ZONE 'UTC'; SET DateStyle TO ISO; SET extra_float_digits TO 3; SET client_min_messages TO warning")
        defer { PQclear(res) }
        guard PQresultStatus(res) == PGRES_COMMAND_OK else {
            throw PostgresError(.connectionFailed, "cannot prepare the session on \(address): \(lastError(conn))")
        }
    }

    /// Runs one parameterised statement and returns its rows.
    /// - Parameters:
    ///   - sql: one statement with `$1`, `$2`, … placeholders.
    ///   - binds: the values, in order; they never become part of the SQL text.
    @discardableResult
    public func query(_ sql: String, _ binds: [PostgresValue] = []) throws -> PostgresRows {
        try handle.withLock { h in try run(&h, sql, binds) }
    }

    /// Runs one statement and returns the number of rows it changed.
    @discardableResult
    public func execute(_ sql: String, _ binds: [PostgresValue] = []) throws -> Int {
        try query(sql, binds).affectedRows
    }

    /// Runs a script of several statements without parameters (migrations). Values never go here.
    public func executeScript(_ sql: String) throws {
        try handle.withLock { h in
            try ensureHealthy(&h)
            var res = PQexec(h.conn, sql)
            defer { PQclear(res) }
            try check(res, h.conn)
            // PQexec returns the last result; drain nothing else (it is synchronous).
            res = nil
        }
    }

    /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK when it throws.
    /// - Throws: ``PostgresError/Code/transactionState`` when called inside another transaction.
    @discardableResult
    public func transaction<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        guard !inTransaction else {
            throw PostgresError(.transactionState, "a transaction is already open on this connection; nested transactions are not supported")
        }
        try query("BEGIN")
        let result: T
        do {
            result = try body(self)
        } catch {
            _ = try? query("ROLLBACK")
            throw error
        }
        try query("COMMIT")
        return result
    }

    /// True while a transaction block is open (or failed and not yet rolled back).
    public var inTransaction: Bool {
        handle.withLock { h in
            let status = PQtransactionStatus(h.conn)
            return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE
        }
    }

    /// Starts listening on `channel` (quoted as an identifier, so any name is safe).
    public func listen(_ channel: String) throws {
        try query("LISTEN \(quoteIdentifier(channel))")
    }

    public func unlisten(_ channel: String) throws {
        try query("UNLISTEN \(quoteIdentifier(channel))")
    }

    /// Sends a notification; the payload is bound, not interpolated.
    public func notify(_ channel: String, payload: String) throws {
        try query("SELECT pg_notify($1, $2)", [.text(channel), .text(payload)])
    }

    /// Returns the notifications that have arrived, waiting up to `timeout` for the first one.
    /// An empty array means none came in time.
    public func notifications(timeout: Duration) throws -> [PostgresNotification] {
        try handle.withLock { h in
            var received = try drainNotifications(h.conn)
            if !received.isEmpty { return received }
            let (seconds, attoseconds) = timeout.components
            var p = pollfd(fd: PQsocket(h.conn), events: Int16(POLLIN), revents: 0)
            let millis = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000)
            if poll(&p, 1, millis) > 0 { received = try drainNotifications(h.conn) }
            return received
        }
    }

    // MARK: - Internals (mutex held)

    private func drainNotifications(_ conn: OpaquePointer) throws -> [PostgresNotification] {
        guard PQconsumeInput(conn) == 1 else {
            throw PostgresError(.connectionLost, "connection to \(address) lost while waiting for notifications: \(lastError(conn))")
        }
        var out: [PostgresNotification] = []
        while let n = PQnotifies(conn) {
            out.append(
                PostgresNotification(
                    channel: String(cString: n.pointee.relname), payload: String(cString: n.pointee.extra), senderPID: n.pointee.be_pid))
            PQfreemem(n)
        }
        return out
    }

    /// Resets a connection the server dropped. Only between statements: a broken transaction is gone anyway.
    private func ensureHealthy(_ h: inout Handle) throws {
        let conn = h.conn
        if PQstatus(conn) == CONNECTION_OK { return }
        // A new session: the old one's prepared statements are gone with it.
        h.prepared = [:]
        h.preparedCount = 0
        PQreset(conn)
        guard PQstatus(conn) == CONNECTION_OK else {
            throw PostgresError(.connectionLost, "connection to \(address) was lost and could not be re-established: \(lastError(conn))")
        }
        try Self.prepareSession(conn, address: address)
    }

    private func run(_ h: inout Handle, _ sql: String, _ binds: [PostgresValue]) throws -> PostgresRows {
        try ensureHealthy(&h)
        let conn = h.conn
        // Encode first: a bad value fails before anything is sent.
        var encoded: [[UInt8]?] = []
        encoded.reserveCapacity(binds.count)
        for (i, value) in binds.enumerated() {
            encoded.append(try value.textEncoding(parameter: i + 1).map { $0 + [0] })
        }
        let types = binds.map { Oid($0.typeOID) }
        var name: String?
        if !binds.isEmpty {
            let key = PreparedKey(sql: sql, types: types)
            name = h.prepared[key]
            if name == nil, h.prepared.count < Self.preparedLimit {
                h.preparedCount += 1
                let fresh = "sb_\(h.preparedCount)"
                let prepared = types.withUnsafeBufferPointer { PQprepare(conn, fresh, sql, Int32(binds.count), $0.baseAddress) }
                defer { PQclear(prepared) }
                try check(prepared, conn)
                h.prepared[key] = fresh
                name = fresh
            }
        }
        let res: OpaquePointer? = withParameterPointers(encoded) { values in
            if let name { return PQexecPrepared(conn, name, Int32(binds.count), values, nil, nil, 0) }
            return types.withUnsafeBufferPointer { typeBuffer in
                PQexecParams(conn, sql, Int32(binds.count), typeBuffer.baseAddress, values, nil, nil, 0)
            }
        }
        defer { PQclear(res) }
        do { try check(res, conn) } catch let error as PostgresError where error.sqlState == "0A000" && name != nil {
            // "cached plan must not change result type": a table the statement reads changed shape under it. Forget it;
            // the next call prepares it again.
            h.prepared = h.prepared.filter { $0.value != name }
            throw error
        }
        return copyRows(res!)
    }

    private func check(_ res: OpaquePointer?, _ conn: OpaquePointer) throws {
        guard let res else {
            throw PostgresError(.connectionLost, "no result from \(address): \(lastError(conn))")
        }
        switch PQresultStatus(res) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return
        default:
            func field(_ code: UInt8) -> String? {
                PQresultErrorField(res, Int32(code)).map { String(cString: $0) }
            }
            let state = field(UInt8(ascii: "C"))
            let primary = field(UInt8(ascii: "M")) ?? lastError(conn)
            if PQstatus(conn) != CONNECTION_OK {
                throw PostgresError(.connectionLost, "connection to \(address) lost: \(primary); the statement may or may not have run")
            }
            throw PostgresError(.server, primary, sqlState: state, constraint: field(UInt8(ascii: "n")))
        }
    }

    private func copyRows(_ res: OpaquePointer) -> PostgresRows {
        let nRows = Int(PQntuples(res))
        let nCols = Int(PQnfields(res))
        var columns: [String] = []
        var types: [UInt32] = []
        for c in 0..<nCols {
            columns.append(String(cString: PQfname(res, Int32(c))))
            types.append(UInt32(PQftype(res, Int32(c))))
        }
        var cells: [[[UInt8]?]] = []
        cells.reserveCapacity(nRows)
        for r in 0..<nRows {
            var row: [[UInt8]?] = []
            row.reserveCapacity(nCols)
            for c in 0..<nCols {
                if PQgetisnull(res, Int32(r), Int32(c)) == 1 {
                    row.append(nil)
                } else {
                    let length = Int(PQgetlength(res, Int32(r), Int32(c)))
                    row.append(Array(UnsafeRawBufferPointer(start: PQgetvalue(res, Int32(r), Int32(c)), count: length)))
                }
            }
            cells.append(row)
        }
        let affected = Int(String(cString: PQcmdTuples(res))) ?? 0
        return PostgresRows(columns: columns, types: types, cells: cells, affectedRows: affected)
    }
}

/// Calls `body` with a `paramValues` array pointing at each NUL-terminated value (nil for NULL).
/// The pointers are valid only inside `body`.
private func withParameterPointers<R>(_ values: [[UInt8]?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
    if values.isEmpty { return body(nil) }
    var flat: [UInt8] = []
    var offsets: [Int?] = []
    for value in values {
        if let value {
            offsets.append(flat.count)
            flat.append(contentsOf: value)
        } else {
            offsets.append(nil)
        }
    }
    flat.append(0)
    return flat.withUnsafeBufferPointer { buffer in
        let base = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
        let pointers: [UnsafePointer<CChar>?] = offsets.map { $0.map { base + $0 } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}

private func cString(_ p: UnsafeMutablePointer<CChar>?) -> String {
    p.map { String(cString: $0) } ?? "?"
}

private func lastError(_ conn: OpaquePointer) -> String {
    String(cString: PQerrorMessage(conn)).trimmingTrailingNewlines()
}

/// Quotes a name as a PostgreSQL identifier: `my "chan"` → `"my ""chan"""`.
public func quoteIdentifier(_ name: String) -> String {
    "\"" + name.replacing("\"", with: "\"\"") + "\""
}

extension String {
    fileprivate func trimmingTrailingNewlines() -> String {
        var s = Substring(self)
        while let last = s.last, last.isNewline || last == " " { s = s.dropLast() }
        return String(s)
    }
}
