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

        @Argument(help: "The tenant's display name (1–200 characters).") var name: String

        @Flag(help: "If a tenant with this exact name exists, print its id instead of creating another.") var ifMissing = false

        func run() async throws {
            let tenant = try await withDatabase { _, db in
                let directory = TenantDirectory(db: db)
                if ifMissing, let existing = try await directory.tenant(named: name) { return existing }
                return try await directory.createTenant(name: name)
            }
            print(tenant.id.uuidString.lowercased())
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List tenants.", discussion: "Examples:\n  switchboard tenants list\n  switchboard tenants list --json")

        @Flag(help: "Print a JSON array of {id, name, createdAt}.") var json = false

        func run() async throws {
            let tenants = try await withDatabase { _, db in try await TenantDirectory(db: db).tenants() }
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
