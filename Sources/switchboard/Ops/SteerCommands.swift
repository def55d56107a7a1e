import ArgumentParser
import FoundationEssentials
import Glibc
import SwitchboardQueue
import SwitchboardRedis
import SwitchboardJSON

struct PauseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause",
        abstract: "Stop workers from taking a queue's jobs; enqueues still land, running jobs finish.",
        discussion: "Exits 1 if the queue was already paused.\n\nExample:\n  switchboard pause default")

    @Argument(help: "The queue.") var queue: String

    func validate() throws {
        try validateQueueName(queue)
    }

    func run() async throws {
        let changed = try await withOpsRedis { try await QueueInspector(redis: $0).pause(queue: queue) }
        print(changed ? "paused \(queue)" : "\(queue) was already paused")
        if !changed { throw ExitCode(1) }
    }
}

struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Let workers take a paused queue's jobs again; idle workers wake at once.",
        discussion: "Exits 1 if the queue was not paused.\n\nExample:\n  switchboard resume default")

    @Argument(help: "The queue.") var queue: String

    func validate() throws {
        try validateQueueName(queue)
    }

    func run() async throws {
        let changed = try await withOpsRedis { try await QueueInspector(redis: $0).resume(queue: queue) }
        print(changed ? "resumed \(queue)" : "\(queue) was not paused")
        if !changed { throw ExitCode(1) }
    }
}

struct PurgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge",
        abstract: "Delete every job of one state of a queue (ready, scheduled, retry, dead or done; never active).",
        discussion: """
            Asks for confirmation on a terminal; elsewhere (scripts, pipes) it refuses unless --yes is given.

            Examples:
              switchboard purge default --state dead
              switchboard purge default --state dead --yes
            """)

    @Argument(help: "The queue.") var queue: String
    @Option(help: "ready, scheduled, retry, dead or done.") var state: String
    @Flag(help: "Do not ask for confirmation (required when stdin is not a terminal).") var yes = false

    func validate() throws {
        try validateQueueName(queue)
        guard QueueInspector.purgeableStates.contains(state) else {
            throw ValidationError(
                "--state must be one of \(QueueInspector.purgeableStates.joined(separator: ", ")) (active jobs are held by workers)")
        }
        if !yes && isatty(STDIN_FILENO) != 1 {
            throw ValidationError("purge deletes jobs for good and stdin is not a terminal to confirm on; add --yes to purge anyway")
        }
    }

    func run() async throws {
        if !yes {
            let counts = try await withOpsRedis { try await QueueInspector(redis: $0).stats(queue: queue) }
            let n =
                ["ready": counts.ready, "scheduled": counts.scheduled, "retry": counts.retry, "dead": counts.dead, "done": counts.done][state] ?? 0
            print("Delete \(n) \(state) jobs of queue \(queue) for good? [y/N] ", terminator: "")
            guard let answer = readLine(), answer.lowercased() == "y" || answer.lowercased() == "yes" else {
                print("nothing deleted")
                throw ExitCode(1)
            }
        }
        let deleted = try await withOpsRedis { try await QueueInspector(redis: $0).purge(queue: queue, state: state) }
        print("deleted \(deleted) \(state) jobs of \(queue)")
    }
}

struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "A page of jobs, newest first.",
        discussion: """
            `--json` prints an array of the `job --json` shape without error histories.

            Examples:
              switchboard jobs --state dead
              switchboard jobs --queue default --state ready --name ingest-message --limit 50 --json
            """)

    @OptionGroup(title: "Which jobs") var filter: JobFilterOptions
    @Option(help: "At most this many.") var limit: Int = 20
    @OptionGroup var ops: OpsOptions

    func validate() throws {
        guard (1...1000).contains(limit) else { throw ValidationError("--limit must be between 1 and 1000") }
    }

    struct Row: Encodable {
        let id, queue, name, state: String
        let attempt, maxAttempts: Int
        let args: JSONValue?
    }

    func run() async throws {
        let jobs = try await withOpsRedis { redis -> [JobSnapshot] in
            let inspector = QueueInspector(redis: redis)
            var queues = filter.queue.map { [$0] } ?? []
            if filter.queue == nil { queues = try await inspector.queues() }
            return try await inspector.list(
                queues: queues, states: filter.state.map { [$0] } ?? JobFilterOptions.states, name: filter.name, limit: limit)
        }
        if ops.json {
            let decoder = JSONDecoder()
            return print(
                try jsonText(
                    jobs.map {
                        Row(
                            id: $0.id, queue: $0.queue, name: $0.name, state: $0.state, attempt: $0.attempt, maxAttempts: $0.maxAttempts,
                            args: try? decoder.decode(JSONValue.self, from: Data($0.payload)))
                    }))
        }
        if jobs.isEmpty {
            print("no jobs")
        } else {
            print(
                Table(
                    headers: ["ID", "QUEUE", "STATE", "NAME", "ATTEMPT"],
                    rows: jobs.map {
                        [$0.id, $0.queue, $0.state, $0.name, "\($0.attempt)/\($0.maxAttempts)"]
                    }
                ).render())
        }
    }
}

/// `jobs`: which queue, state and name to list.
struct JobFilterOptions: ParsableArguments {
    static let states = ["ready", "scheduled", "active", "retry", "dead", "done"]

    @Option(help: "Only this queue (default: every queue).") var queue: String?
    @Option(help: "Only this state: ready, scheduled, active, retry, dead or done (default: all).") var state: String?
    @Option(help: "Only jobs of this name.") var name: String?

    func validate() throws {
        if let state, !Self.states.contains(state) { throw ValidationError("--state must be one of \(Self.states.joined(separator: ", "))") }
    }
}
