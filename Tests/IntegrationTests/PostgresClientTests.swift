import Foundation
import SwitchboardPostgres
import Testing

/// The libpq client against a real PostgreSQL 15.
@Suite("PostgreSQL client", .timeLimit(.minutes(2)))
struct PostgresClientTests {
    func withClient(maxConnections: Int = 2, _ body: (PostgresClient) async throws -> Void) async throws {
        let db = PostgresClient(url: try TestEnvironment.databaseURL(), maxConnections: maxConnections)
        do {
            try await body(db)
        } catch {
            try await db.shutdown()
            throw error
        }
        try await db.shutdown()
    }

    @Test func hostileStringsBindAsData() async throws {
        let hostile = [
            "O'Reilly", "'; DROP TABLE hostile; --", "Robert\"); DROP TABLE students;--", "$1 $2 \\x00 %s %n",
            "emoji 😀👍🏽 and 中文", "line\nbreak\ttab\r", "back\\slash", "",
            String(repeating: "x'y", count: 350_000),  // ~1 MB
        ]
        try await withClient { db in
            let stored: [String] = try await db.withConnection { conn in
                try conn.execute("CREATE TEMP TABLE hostile (i int, s text)")
                for (i, s) in hostile.enumerated() { try conn.execute("INSERT INTO hostile (i, s) VALUES ($1, $2)", [.int(Int64(i)), .text(s)]) }
                // The table survived every "DROP TABLE".
                let rows = try conn.query("SELECT s FROM hostile ORDER BY i")
                let lookedUp = try conn.query("SELECT count(*) AS n FROM hostile WHERE s = $1", [.text("'; DROP TABLE hostile; --")])
                #expect(try lookedUp[0].decode("n", as: Int.self) == 1)
                return try rows.map { try $0.decode("s") }
            }
            #expect(stored == hostile)
        }
    }

    @Test func aNULByteInTextIsAClearErrorAndNothingIsSent() async throws {
        try await withClient { db in
            let error = await #expect(throws: PostgresError.self) {
                try await db.query("SELECT $1::text AS s", [.text("secret\u{0}payload")])
            }
            #expect(error?.code == .invalidParameter)
            #expect(error?.message.contains("$1") == true)
            #expect(error?.message.contains("NUL") == true)
            #expect(error.map { "\($0)".contains("secret") } == false)
            // The connection is still fine.
            let one: Int = try await db.query("SELECT 1 AS one")[0].decode("one")
            #expect(one == 1)
        }
    }

    @Test func aThrownErrorRollsTheTransactionBack() async throws {
        struct Boom: Error {}
        try await withClient(maxConnections: 1) { db in
            let table = "rollback_\(UUID().uuidString.prefix(8).lowercased())"
            try await db.execute("CREATE TABLE \(table) (v text)")
            await #expect(throws: Boom.self) {
                try await db.transaction { conn in
                    try conn.execute("INSERT INTO \(table) VALUES ($1)", ["kept?"])
                    throw Boom()
                }
            }
            // A server error inside the transaction rolls back too.
            let serverError = await #expect(throws: PostgresError.self) {
                try await db.transaction { conn in
                    try conn.execute("INSERT INTO \(table) VALUES ($1)", ["kept?"])
                    try conn.execute("INSERT INTO \(table) VALUES ($1::int::text)", ["not a number"])
                }
            }
            #expect(serverError?.sqlState == "22P02")
            #expect(try await db.query("SELECT count(*) AS n FROM \(table)")[0].decode("n", as: Int.self) == 0)
            // A transaction that returns commits.
            try await db.transaction { conn in try conn.execute("INSERT INTO \(table) VALUES ($1)", ["committed"]) }
            #expect(try await db.query("SELECT v FROM \(table)")[0].decode("v", as: String.self) == "committed")
            try await db.execute("DROP TABLE \(table)")
        }
    }

    @Test func schemaTypesDecode() async throws {
        try await withClient { db in
            let row = try await db.query(
                """
                SELECT 'text'::text AS t, 42::int AS i, 9000000000000000000::bigint AS b, true AS yes, 1.5::float8 AS d,
                       12345.678901234567890123::numeric AS n, '2026-02-28 23:59:59.123456+00'::timestamptz AS ts,
                       'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS u, '{"b": [1, "x"], "a": null}'::jsonb AS j,
                       ARRAY['plain', 'with space', 'quote"d', 'back\\slash', '', 'NULL', '{braces}']::text[] AS arr,
                       '\\x00ff10'::bytea AS bin, NULL::text AS missing
                """)[0]
            #expect(try row.decode("t", as: String.self) == "text")
            #expect(try row.decode("i", as: Int.self) == 42)
            #expect(try row.decode("b", as: Int64.self) == 9_000_000_000_000_000_000)
            #expect(try row.decode("yes", as: Bool.self) == true)
            #expect(try row.decode("d", as: Double.self) == 1.5)
            #expect(try row.decode("n", as: Decimal.self) == Decimal(string: "12345.678901234567890123"))
            #expect(try row.decode("n", as: String.self) == "12345.678901234567890123")
            let ts = try row.decode("ts", as: Date.self)
            #expect(abs(ts.timeIntervalSince1970 - 1_772_323_199.123456) < 0.000_001)
            #expect(try row.decode("u", as: UUID.self) == UUID(uuidString: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"))
            #expect(try row.decode("j", as: PostgresJSON.self).text == #"{"a": null, "b": [1, "x"]}"#)
            #expect(try row.decode("arr", as: [String].self) == ["plain", "with space", "quote\"d", "back\\slash", "", "NULL", "{braces}"])
            #expect(try row.decode("bin", as: PostgresBytes.self).bytes == [0, 255, 16])
            #expect(try row.decodeIfPresent("missing", as: String.self) == nil)
            #expect(throws: PostgresError.self) { try row.decode("missing", as: String.self) }
            #expect(throws: PostgresError.self) { try row.decode("t", as: Int.self) }
        }
    }

    @Test func boundValuesRoundTrip() async throws {
        try await withClient { db in
            let when = Date(timeIntervalSince1970: 1_700_000_000.654321)
            let id = UUID()
            let row = try await db.query(
                "SELECT $1::bigint AS i, $2::bool AS b, $3::float8 AS d, $4::numeric AS n, $5::timestamptz AS ts, $6::uuid AS u, $7::jsonb AS j, $8::text[] AS arr, $9::bytea AS bin, $10::text AS nothing",
                [
                    .int(-7), .bool(false), .double(-0.25), .decimal(Decimal(string: "-0.000000000000000000001")!), .timestamp(when), .uuid(id),
                    .jsonb(#"{"k": "v'\"w"}"#), .textArray(["a,b", "c\"d", "e\\f", "g}"]), .bytea([0, 1, 2, 254]), .null,
                ])[0]
            #expect(try row.decode("i", as: Int.self) == -7)
            #expect(try row.decode("b", as: Bool.self) == false)
            #expect(try row.decode("d", as: Double.self) == -0.25)
            #expect(try row.decode("n", as: String.self) == "-0.000000000000000000001")
            #expect(abs(try row.decode("ts", as: Date.self).timeIntervalSince(when)) < 0.000_001)
            #expect(try row.decode("u", as: UUID.self) == id)
            #expect(try row.decode("j", as: PostgresJSON.self).text == #"{"k": "v'\"w"}"#)
            #expect(try row.decode("arr", as: [String].self) == ["a,b", "c\"d", "e\\f", "g}"])
            #expect(try row.decode("bin", as: PostgresBytes.self).bytes == [0, 1, 2, 254])
            #expect(row.isNull("nothing"))
        }
    }

    @Test func listenReceivesNotify() async throws {
        let channel = "test events \(UUID().uuidString.prefix(6))"  // a name that needs quoting
        let url = try TestEnvironment.databaseURL()
        let received: [PostgresNotification] = try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                do {
                    let listener = try PostgresConnection(url: url)
                    let sender = try PostgresConnection(url: url)
                    try listener.listen(channel)
                    #expect(try listener.notifications(timeout: .milliseconds(100)).isEmpty)
                    try sender.notify(channel, payload: #"{"job": "x'y"}"#)
                    continuation.resume(returning: try listener.notifications(timeout: .seconds(5)))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
        #expect(received.map(\.channel) == [channel])
        #expect(received.map(\.payload) == [#"{"job": "x'y"}"#])
    }

    @Test func thePoolServesManyConcurrentCallers() async throws {
        try await withClient(maxConnections: 4) { db in
            let results = try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<40 {
                    group.addTask { try await db.query("SELECT $1::int AS v, pg_sleep(0.02)", [.int(Int64(i))])[0].decode("v") }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.sorted() == Array(0..<40))
            let backends = try await db.query(
                "SELECT count(*) AS n FROM pg_stat_activity WHERE usename = current_user AND datname = current_database()")
            #expect(try backends[0].decode("n", as: Int.self) >= 1)
        }
    }

    /// Statements with parameters are prepared once per session and reused; a table changing shape under a prepared
    /// statement fails that one call (PostgreSQL's "cached plan must not change result type"), and the next call
    /// prepares it again.
    @Test func aStatementIsPreparedOnceAndASchemaChangeCostsOneCall() async throws {
        try await withClient(maxConnections: 1) { db in
            try await db.withConnection { conn in
                try conn.execute("CREATE TEMP TABLE reused (i int, s text)")
                for i in 0..<50 { try conn.execute("INSERT INTO reused (i, s) VALUES ($1, $2)", [.int(Int64(i)), .text("row \(i)")]) }
                let prepared = try conn.query(
                    "SELECT count(*) AS n FROM pg_prepared_statements WHERE statement LIKE $1", [.text("INSERT INTO reused%")])
                #expect(try prepared[0].decode("n", as: Int.self) == 1, "fifty inserts, one prepared statement")
                let select = "SELECT * FROM reused WHERE i = $1"
                #expect(try conn.query(select, [.int(7)])[0].decode("s", as: String.self) == "row 7")
                try conn.execute("ALTER TABLE reused ADD COLUMN extra int")
                do {
                    _ = try conn.query(select, [.int(7)])
                } catch let error as PostgresError {
                    #expect(error.sqlState == "0A000")
                }
                let again = try conn.query(select, [.int(7)])
                let text = try again[0].decode("s", as: String.self)
                #expect(again.columns.contains("extra") && text == "row 7")
            }
        }
    }

    @Test func connectionFailureNamesTheServerNotThePassword() async throws {
        let error = await #expect(throws: PostgresError.self) {
            _ = try await onPlainThread {
                try PostgresConnection(url: "postgresql://switchboard:topsecret-pw@127.0.0.1:1/switchboard?connect_timeout=2")
            }
        }
        #expect(error?.code == .connectionFailed)
        #expect(error.map { "\($0)".contains("127.0.0.1") } == true)
        #expect(error.map { "\($0)".contains("topsecret") } == false)
    }
}
