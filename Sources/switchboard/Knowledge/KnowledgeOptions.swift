import ArgumentParser
import FoundationEssentials
import Glibc
import SwitchboardKnowledge

/// `--tenant` for the knowledge commands.
struct TenantOption: ParsableArguments {
    @Option(help: "The tenant's id (from: switchboard tenants list).") var tenant: String

    func validate() throws {
        guard UUID(uuidString: tenant) != nil else {
            throw ValidationError("--tenant must be a tenant id (a UUID); list them with: switchboard tenants list")
        }
    }

    var id: UUID { UUID(uuidString: tenant)! }
}

/// Reads a source with a reader that checks every row first; a bad one is one clear line and exit 1.
func readSource<T>(_ read: () throws(KnowledgeImportError) -> T) throws -> T {
    do { return try read() } catch {
        printError("error: \(error)")
        throw ExitCode(1)
    }
}

/// "embedded 64/230" on one line of the terminal, rewritten as work goes on; nothing when stderr is not a terminal.
struct TerminalProgress: Sendable {
    let label: String
    let enabled = isatty(STDERR_FILENO) == 1

    func update(_ done: Int, _ total: Int) {
        guard enabled else { return }
        printError("\r\(label) \(done)/\(total)", terminator: "")
    }

    func finish() {
        if enabled { printError("") }
    }
}
