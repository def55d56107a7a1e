import ArgumentParser
import Foundation
import SwitchboardConversations

/// `switchboard turns show`: one turn's stages with their job ids and timings.
struct TurnsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "turns", abstract: "One turn of a conversation: its stages, jobs and timings.", subcommands: [Show.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A turn's stages (coalesce, understand, retrieve, extract, decide) with job ids and timings.")
        @Argument(help: "The turn id.") var id: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let id = try uuid(self.id, "turn")
            guard let (tenant, turn) = try await withDatabase({ _, db in try await ConversationStore(db: db).turn(id: id) }) else {
                printError("error: no turn \(id); a conversation's turns are in: switchboard conversations show ID")
                throw ExitCode(1)
            }
            if json { return print(try jsonText(turn)) }
            print(
                "turn \(turn.id.uuidString.lowercased())  tenant \(tenant.uuidString.lowercased())  conversation \(turn.conversationID.uuidString.lowercased())"
            )
            print(
                "window closed \(formatUTC(turn.windowClosedAt)); decision \(turn.decision?.rawValue ?? "pending")\(turn.reason.map { " (\($0))" } ?? "")"
            )
            let order = ["coalesce", "understand", "retrieve", "extract", "decide"]
            let rows = turn.stages.sorted {
                (order.firstIndex(of: $0.key) ?? 9, $0.value.startedAt) < (order.firstIndex(of: $1.key) ?? 9, $1.value.startedAt)
            }
            .map { stage, run in
                [
                    stage, run.job, "\(run.attempt)", String(format: "%.0f", run.startedAt.timeIntervalSince(turn.windowClosedAt) * 1000),
                    String(format: "%.1f", run.ms),
                ]
            }
            print(Table(headers: ["STAGE", "JOB", "ATTEMPT", "START MS", "TOOK MS"], rows: rows).render())
            if let decided = turn.decidedAt {
                print("window close → decision: \(String(format: "%.0f", decided.timeIntervalSince(turn.windowClosedAt) * 1000)) ms")
            }
        }
    }
}
