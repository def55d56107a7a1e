public import FoundationEssentials
import Crypto
public import SwitchboardPostgres

/// One numbered SQL file from `Migrations/`, such as `0001_initial.sql`.
public struct Migration: Sendable, Hashable {
    /// The number the file name starts with; migrations apply in this order.
    public let version: Int
    /// The file name.
    public let name: String
    public let sql: String
    /// Lowercase hex SHA-256 of the file's bytes.
    public let checksum: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
        self.checksum = SHA256.hash(data: Array(sql.utf8)).map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }

    /// Reads `NNNN_description.sql` files from `directory`, sorted by number.
    /// - Throws: ``MigrationError`` for a missing folder, a badly named file, or two files with one number.
    public static func load(directory: String) throws -> [Migration] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw MigrationError("cannot read the migrations folder \(directory): run from the project root or pass --migrations DIR")
        }
        var migrations: [Migration] = []
        for name in names.sorted() where name.hasSuffix(".sql") {
            let digits = name.prefix(while: \.isNumber)
            guard !digits.isEmpty, let version = Int(digits), name.dropFirst(digits.count).first == "_" else {
                throw MigrationError("\(directory)/\(name): a migration file must be named NNNN_description.sql")
            }
            if let clash = migrations.first(where: { $0.version == version }) {
                throw MigrationError("\(directory)/\(name) and \(clash.name) share the number \(version); renumber one of them")
            }
            guard let data = FileManager.default.contents(atPath: "\(directory)/\(name)") else {
                throw MigrationError("\(directory)/\(name) cannot be read")
            }
            migrations.append(Migration(version: version, name: name, sql: String(decoding: data, as: UTF8.self)))
        }
        return migrations.sorted { $0.version < $1.version }
    }
}

/// A migration problem, said so that the operator knows what to do.
public struct MigrationError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Applies pending migrations, each in its own transaction, under a PostgreSQL advisory lock so that
/// several `switchboard migrate` processes started at once apply each file exactly once.
public struct Migrator: Sendable {
    /// Where a migration stands in the database.
    public struct Status: Sendable, Hashable {
        public enum State: String, Sendable {
            case applied, pending, changed
            case missingFile = "missing-file"
        }
        public let version: Int
        public let name: String
        public let state: State
        public let appliedAt: Date?
    }

    /// Arbitrary constant shared by every Switchboard process ("SWMI"): the advisory lock's key.
    static let lockKey: Int64 = 0x5357_4D49
    let migrations: [Migration]

    public init(migrations: [Migration]) { self.migrations = migrations }

    /// Applies what is pending and returns the names applied, in order.
    /// - Throws: ``MigrationError`` when an applied file changed since (its checksum differs), or the SQL error of a failing file
    ///   (that file's transaction is rolled back; the ones before it stay applied).
    public func apply(on db: PostgresClient) async throws -> [String] {
        let migrations = self.migrations
        return try await db.withConnection { conn in
            try conn.query("SELECT pg_advisory_lock($1)", [.int(Self.lockKey)])
            defer { _ = try? conn.query("SELECT pg_advisory_unlock($1)", [.int(Self.lockKey)]) }
            try Self.createLedger(conn)
            let applied = try Self.appliedRows(conn)
            try Self.verifyChecksums(migrations, applied)
            var done: [String] = []
            for migration in migrations where applied[migration.version] == nil {
                do {
                    try conn.transaction { tx in
                        try tx.executeScript(migration.sql)
                        try tx.query(
                            "INSERT INTO switchboard_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                            [.int(Int64(migration.version)), .text(migration.name), .text(migration.checksum)])
                    }
                } catch let error as PostgresError {
                    throw MigrationError("\(migration.name) failed and was rolled back: \(error)")
                }
                done.append(migration.name)
            }
            return done
        }
    }

    /// Every migration known to the folder or the database, with its state.
    public func status(on db: PostgresClient) async throws -> [Status] {
        let migrations = self.migrations
        return try await db.withConnection { conn in
            try Self.createLedger(conn)
            let applied = try Self.appliedRows(conn)
            var out: [Status] = migrations.map { m in
                guard let row = applied[m.version] else { return Status(version: m.version, name: m.name, state: .pending, appliedAt: nil) }
                return Status(version: m.version, name: m.name, state: row.checksum == m.checksum ? .applied : .changed, appliedAt: row.appliedAt)
            }
            for (version, row) in applied where !migrations.contains(where: { $0.version == version }) {
                out.append(Status(version: version, name: row.name, state: .missingFile, appliedAt: row.appliedAt))
            }
            return out.sorted { $0.version < $1.version }
        }
    }

    private struct AppliedRow {
        let name: String
        let checksum: String
        let appliedAt: Date
    }

    private static func createLedger(_ conn: PostgresConnection) throws {
        // Two processes may race here before either holds the lock (status does not take it); the loser's
        // unique-violation on pg_type is harmless because the table then exists.
        do {
            try conn.query(
                """
                CREATE TABLE IF NOT EXISTS switchboard_migrations (
                    version integer PRIMARY KEY,
                    name text NOT NULL,
                    checksum text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now())
                """)
        } catch let error as PostgresError where error.isUniqueViolation {}
    }

    private static func appliedRows(_ conn: PostgresConnection) throws -> [Int: AppliedRow] {
        var out: [Int: AppliedRow] = [:]
        for row in try conn.query("SELECT version, name, checksum, applied_at FROM switchboard_migrations") {
            out[try row.decode("version")] = AppliedRow(
                name: try row.decode("name"), checksum: try row.decode("checksum"), appliedAt: try row.decode("applied_at"))
        }
        return out
    }

    private static func verifyChecksums(_ migrations: [Migration], _ applied: [Int: AppliedRow]) throws {
        for m in migrations {
            if let row = applied[m.version], row.checksum != m.checksum {
                throw MigrationError(
                    "\(m.name) was applied with checksum \(row.checksum.prefix(12))… but the file now has \(m.checksum.prefix(12))…: "
                        + "an applied migration must not be edited; restore the file and put the change in a new migration")
            }
        }
    }
}

extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
