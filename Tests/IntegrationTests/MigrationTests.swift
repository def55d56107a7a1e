import Foundation
import SwitchboardPostgres
import SwitchboardStore
import Testing

@Suite("Migrations", .timeLimit(.minutes(3)))
struct MigrationTests {
    @Test func appliesPendingInOrderAndRefusesAnEditedAppliedFile() async throws {
        try await withScratchDatabase { url in
            try await withTemporaryDirectory { dir in
                try "CREATE TABLE widgets (id int PRIMARY KEY);".write(
                    to: dir.appendingPathComponent("0001_widgets.sql"), atomically: true, encoding: .utf8)
                try "INSERT INTO widgets VALUES (1), (2);".write(to: dir.appendingPathComponent("0002_seed.sql"), atomically: true, encoding: .utf8)
                let db = PostgresClient(url: url, maxConnections: 1)
                #expect(
                    try await Migrator(migrations: try Migration.load(directory: dir.path)).apply(on: db) == ["0001_widgets.sql", "0002_seed.sql"])
                #expect(try await Migrator(migrations: try Migration.load(directory: dir.path)).apply(on: db) == [])

                // A failing migration is rolled back whole; the ones before it stay.
                try "INSERT INTO widgets VALUES (3); INSERT INTO widgets VALUES (1);".write(
                    to: dir.appendingPathComponent("0003_bad.sql"), atomically: true, encoding: .utf8)
                let failed = await #expect(throws: MigrationError.self) {
                    try await Migrator(migrations: try Migration.load(directory: dir.path)).apply(on: db)
                }
                #expect(failed?.description.contains("0003_bad.sql failed and was rolled back") == true)
                #expect(try await db.query("SELECT count(*) AS n FROM widgets")[0].decode("n", as: Int.self) == 2)
                try FileManager.default.removeItem(at: dir.appendingPathComponent("0003_bad.sql"))

                // Editing an applied file is caught by its checksum, before anything runs.
                try "CREATE TABLE widgets (id bigint PRIMARY KEY);".write(
                    to: dir.appendingPathComponent("0001_widgets.sql"), atomically: true, encoding: .utf8)
                try "CREATE TABLE gadgets (id int);".write(to: dir.appendingPathComponent("0004_gadgets.sql"), atomically: true, encoding: .utf8)
                let migrator = Migrator(migrations: try Migration.load(directory: dir.path))
                let changed = await #expect(throws: MigrationError.self) { try await migrator.apply(on: db) }
                #expect(changed?.description.contains("0001_widgets.sql was applied with checksum") == true)
                #expect(changed?.description.contains("must not be edited") == true)
                #expect(try await db.query("SELECT to_regclass('gadgets') IS NULL AS absent")[0].decode("absent", as: Bool.self))
                let status = try await migrator.status(on: db)
                #expect(status.map(\.state) == [.changed, .applied, .pending])

                // And through the binary: a clear message and a non-zero exit.
                let run = try await runSwitchboard(["migrate", "--migrations", dir.path], environment: ["DATABASE_URL": url])
                #expect(run.status == 1)
                #expect(run.stderr.contains("0001_widgets.sql was applied with checksum"))
                try await db.shutdown()
            }
        }
    }

    @Test func twoConcurrentMigrateProcessesApplyEachFileOnce() async throws {
        try await withScratchDatabase { url in
            try await withTemporaryDirectory { dir in
                try "CREATE TABLE applied_log (file text NOT NULL, at timestamptz DEFAULT clock_timestamp());"
                    .write(to: dir.appendingPathComponent("0001_log.sql"), atomically: true, encoding: .utf8)
                for n in 2...4 {
                    try "SELECT pg_sleep(0.3); INSERT INTO applied_log (file) VALUES ('\(n)');"
                        .write(to: dir.appendingPathComponent(String(format: "%04d_step.sql", n)), atomically: true, encoding: .utf8)
                }
                let env = ["DATABASE_URL": url]
                let first = try RunningProcess(try TestEnvironment.switchboardBinary(), ["migrate", "--migrations", dir.path], environment: env)
                let second = try RunningProcess(try TestEnvironment.switchboardBinary(), ["migrate", "--migrations", dir.path], environment: env)
                let results = [await first.wait(), await second.wait()]
                #expect(results.map(\.status) == [0, 0], "stderr: \(results.map(\.stderr))")
                let appliedLines = results.flatMap { $0.stdout.split(separator: "\n").filter { $0.hasPrefix("applied ") } }
                #expect(appliedLines.count == 4)
                #expect(Set(appliedLines).count == 4)

                let db = PostgresClient(url: url, maxConnections: 1)
                #expect(
                    try await db.query("SELECT file FROM applied_log ORDER BY at").map { try $0.decode("file", as: String.self) } == ["2", "3", "4"])
                #expect(try await db.query("SELECT count(*) AS n FROM switchboard_migrations")[0].decode("n", as: Int.self) == 4)
                try await db.shutdown()

                let status = try await runSwitchboard(["migrate", "--status", "--migrations", dir.path], environment: env)
                #expect(status.status == 0)
                #expect(status.stdout.split(separator: "\n").filter { $0.contains(" applied ") }.count == 4)
            }
        }
    }

    @Test func badlyNamedOrDuplicateFilesAreRefused() async throws {
        try await withTemporaryDirectory { dir in
            try "SELECT 1;".write(to: dir.appendingPathComponent("initial.sql"), atomically: true, encoding: .utf8)
            #expect(throws: MigrationError.self) { try Migration.load(directory: dir.path) }
            try FileManager.default.removeItem(at: dir.appendingPathComponent("initial.sql"))
            try "SELECT 1;".write(to: dir.appendingPathComponent("0001_a.sql"), atomically: true, encoding: .utf8)
            try "SELECT 2;".write(to: dir.appendingPathComponent("01_b.sql"), atomically: true, encoding: .utf8)
            let error = #expect(throws: MigrationError.self) { try Migration.load(directory: dir.path) }
            #expect(error?.description.contains("share the number 1") == true)
        }
    }
}
