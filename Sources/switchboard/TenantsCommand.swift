import FoundationEssentials
import ArgumentParser
import SwitchboardPostgres
import SwitchboardStore

struct TenantsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenants",
        abstract: "Create and list tenants (the businesses using Switchboard).",
        discussion: "Examples:\n  switchboard tenants create \"Acme Wholesale\"\n  switchboard tenants list --json",
        subcommands: [Create.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a tenant and print its id.",
            discussion: """
                Examples:
                  switchboard tenants create "Acme Wholesale"
                  TENANT=$(switchboard tenants create demo --if-missing)
                """)

        @Argument(help: "The tenant's display name (1–200 characters).")
        var name: String

        @Flag(help: "If a tenant with this exact name exists, print its id instead of creating another.")
        var ifMissing = false

        func run() async throws {
            let settings = try Settings.fromEnvironment()
            _ = settings.bootstrapLogging()
            let db = PostgresClient(url: settings.databaseURL, maxConnections: 1)
            let directory = TenantDirectory(db: db)
            let tenant: Tenant
            if ifMissing, let existing = try await directory.tenant(named: name) {
                tenant = existing
            } else {
                tenant = try await runReportingErrors { try await directory.createTenant(name: name) }
            }
            try await db.shutdown()
            print(tenant.id.uuidString.lowercased())
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List tenants.", discussion: "Examples:\n  switchboard tenants list\n  switchboard tenants list --json")

        @Flag(help: "Print a JSON array of {id, name, createdAt}.")
        var json = false

        func run() async throws {
            let settings = try Settings.fromEnvironment()
            _ = settings.bootstrapLogging()
            let db = PostgresClient(url: settings.databaseURL, maxConnections: 1)
            let directory = TenantDirectory(db: db)
            let tenants = try await runReportingErrors { try await directory.tenants() }
            try await db.shutdown()
            if json {
                print(try jsonText(tenants))
            } else {
                print(
                    Table(
                        headers: ["ID", "NAME", "CREATED (UTC)"],
                        rows: tenants.map { [$0.id.uuidString.lowercased(), $0.name, formatUTC($0.createdAt)] }
                    ).render())
            }
        }
    }
}

/// Runs an operator action; turns the store's and database's errors into one clear line and exit code 1.
func runReportingErrors<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as DirectoryError {
        printError("error: \(error)")
        throw ExitCode(1)
    } catch let error as PostgresError {
        printError("error: \(error)")
        throw ExitCode(1)
    } catch let error as SecretBoxError {
        printError("error: \(error)")
        throw ExitCode(1)
    } catch let error as MigrationError {
        printError("error: \(error)")
        throw ExitCode(1)
    }
}
