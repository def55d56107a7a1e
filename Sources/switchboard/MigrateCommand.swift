import Logging
import ArgumentParser
import SwitchboardPostgres
import SwitchboardStore

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending SQL migrations from Migrations/, or list their state.",
        discussion: """
            Each file NNNN_description.sql runs in its own transaction and is recorded with its SHA-256
            checksum in switchboard_migrations. Runs hold a PostgreSQL advisory lock, so several migrate
            processes started at once apply each file exactly once. Editing an applied file is an error.

            Examples:
              switchboard migrate
              switchboard migrate --status
              DATABASE_URL=postgresql://app@db:5432/switchboard switchboard migrate --migrations /srv/Migrations
            """)

    @Flag(help: "List applied and pending migrations instead of applying.") var status = false

    @Option(name: .customLong("migrations"), help: "Folder of NNNN_description.sql files (default: MIGRATIONS_DIR or ./Migrations).")
    var directory: String?

    func run() async throws {
        let settings = try Settings.fromEnvironment()
        let logger = settings.bootstrapLogging()
        let migrations = try await runReportingErrors { try Migration.load(directory: directory ?? settings.migrationsDirectory) }
        let db = PostgresClient(url: settings.databaseURL, maxConnections: 1)
        let migrator = Migrator(migrations: migrations)
        try await withClients([db]) {
            try await runReportingErrors {
                if status {
                    let rows = try await migrator.status(on: db)
                    print(
                        Table(
                            headers: ["VERSION", "NAME", "STATE", "APPLIED AT (UTC)"],
                            rows: rows.map {
                                [String($0.version), $0.name, $0.state.rawValue, $0.appliedAt.map(formatUTC) ?? "-"]
                            }
                        ).render())
                    if rows.contains(where: { $0.state == .changed }) { throw ExitCode(1) }
                    return
                }
                if try await db.query("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").first?.decode("rolsuper", as: Bool.self) == true {
                    logger.warning("connected as a superuser: row-level security is bypassed for this role; run the application as an ordinary role")
                }
                let applied = try await migrator.apply(on: db)
                if applied.isEmpty {
                    print("Nothing to apply: all \(migrations.count) migrations are applied.")
                } else {
                    for name in applied { print("applied \(name)") }
                }
            }
        }
    }
}
