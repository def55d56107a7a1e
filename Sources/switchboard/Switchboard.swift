import ArgumentParser
import Glibc

/// The one executable: every process type and operator command is a subcommand.
@main
struct Switchboard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard",
        abstract: "Background-job engine for AI customer-service platforms.",
        discussion: """
            Configuration comes from the environment (REDIS_URL, DATABASE_URL, PORT, HOST, LOG_LEVEL,
            SWITCHBOARD_SECRET_KEY, MIGRATIONS_DIR); see README.md for defaults.

            Examples:
              switchboard migrate
              switchboard tenants create "Acme Wholesale"
              switchboard web
            """,
        version: SwitchboardVersion.current,
        subcommands: [
            MigrateCommand.self, WebCommand.self, WorkerCommand.self, SchedulerCommand.self, SchedulesCommand.self,
            EnqueueCommand.self, QueuesCommand.self, JobsCommand.self, JobCommand.self, RetryCommand.self, DiscardCommand.self,
            PurgeCommand.self, PauseCommand.self, ResumeCommand.self, WorkersCommand.self, TopCommand.self, CheckCommand.self,
            BenchCommand.self, TenantsCommand.self, ChannelsCommand.self, ModelCommand.self, KBCommand.self, CatalogCommand.self, EvalCommand.self,
            TrainCommand.self, ClassifyCommand.self, IntentsCommand.self, ExtractOrderCommand.self, OrdersCommand.self, ProvidersCommand.self,
            UsageCommand.self, ConversationsCommand.self, TurnsCommand.self, DemoCommand.self, SinkCommand.self, ChaosCommand.self,
            SecretKeyCommand.self, VersionCommand.self,
        ])
}

extension Switchboard {
    /// Like ArgumentParser's main, but a usage error exits 2 (the ops convention: 0 ok, 1 not found, 2 usage).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                printError(fullMessage(for: error))
                Glibc.exit(2)
            }
            exit(withError: error)
        }
    }
}

enum SwitchboardVersion {
    static let current = "0.1.0"
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version", abstract: "Print the version.", discussion: "Example:\n  switchboard version")
    func run() { print("switchboard \(SwitchboardVersion.current)") }
}
