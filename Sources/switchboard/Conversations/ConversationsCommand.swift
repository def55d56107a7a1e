import ArgumentParser
import Foundation
import Jobs
import SwitchboardConversations
import SwitchboardQueue
import SwitchboardPostgres
import SwitchboardRedis

/// `switchboard conversations`: what the pipeline did with customers' conversations, and a person's commands.
struct ConversationsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conversations",
        abstract: "Conversations: list, show the timeline, release from handoff, send a draft, the pipeline's settings.",
        discussion: """
            A conversation is 'open' (automation answers), 'handoff' (a person has it, until released) or 'closed'.
            Exit status 1 when the conversation does not exist or cannot change.

            Examples:
              switchboard conversations list --tenant $TENANT --status handoff
              switchboard conversations show $CONVERSATION
              switchboard conversations show $CONVERSATION --json | jq '.turns[] | {decision, reason}'
              switchboard conversations reply $CONVERSATION --use-draft
              switchboard conversations release $CONVERSATION
              switchboard conversations settings --tenant $TENANT --window 3s --always-human complaint,cancel_order
            """,
        subcommands: [List.self, Show.self, Release.self, Reply.self, SettingsCommand.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Conversations, most recently active first.")
        @Option(help: "Only this tenant's conversations.") var tenant: String?
        @Option(help: "Only conversations in this status: open, handoff or closed.") var status: String?
        @Option(help: "At most this many.") var limit = 50
        @Flag(help: "Print a JSON array.") var json = false

        func validate() throws {
            if let tenant, UUID(uuidString: tenant) == nil { throw ValidationError("--tenant must be a tenant id (a UUID)") }
            if let status, !["open", "handoff", "closed"].contains(status) { throw ValidationError("--status must be open, handoff or closed") }
            if limit < 1 { throw ValidationError("--limit must be at least 1") }
        }

        func run() async throws {
            let rows = try await withDatabase { _, db in
                try await ConversationStore(db: db).list(tenant: tenant.flatMap(UUID.init(uuidString:)), status: status, limit: limit)
            }
            try printList(
                rows, json: json, empty: "no conversations",
                headers: ["CONVERSATION", "STATUS", "REASON", "CUSTOMER", "CHANNEL", "TURNS", "MESSAGES", "LAST ACTIVITY"]
            ) {
                [
                    $0.id.uuidString.lowercased(), $0.status, $0.handoffReason ?? "-", $0.customerName ?? "-", $0.channelKind, "\($0.turns)",
                    "\($0.messages)", formatUTC($0.lastActivityAt),
                ]
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The timeline: messages, turns with their bursts, intents, retrieved articles, order, decision, reply, AI cost.")
        @Argument(help: "The conversation id.") var id: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let id = try uuid(self.id, "conversation")
            guard let timeline = try await withDatabase({ _, db in try await ConversationStore(db: db).timeline(id: id) }) else {
                printError("error: \(ConversationStoreError.notFound(id))")
                throw ExitCode(1)
            }
            if json { return print(try jsonText(timeline)) }
            print(TimelineText.render(timeline))
        }
    }

    struct Release: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Return a handed-off conversation to automation.")
        @Argument(help: "The conversation id.") var id: String

        func run() async throws {
            let id = try uuid(self.id, "conversation")
            try await change { try await ConversationStore(db: $0).release(id: id) }
            print("conversation \(id.uuidString.lowercased()) released: automation answers its next turn")
        }
    }

    struct Reply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send the conversation's latest unsent draft to the customer.")
        @Argument(help: "The conversation id.") var id: String
        @Flag(help: "Send the draft the pipeline wrote (the only kind of reply this command sends).") var useDraft = false

        func validate() throws {
            guard useDraft else { throw ValidationError("give --use-draft: this command sends the pipeline's draft") }
        }

        func run() async throws {
            let id = try uuid(self.id, "conversation")
            let settings = try Settings.fromEnvironment()
            let redis = try RedisClient(configuration: settings.redisConfiguration(), maxConnections: 1)
            let (message, job) = try await withClients([redis]) {
                let (tenant, message, _) = try await change { try await ConversationStore(db: $0).useDraft(conversation: id) }
                let job = try await JobQueue(redis: redis).enqueue(SendMessage(tenant: tenant, message: message))
                return (message, job)
            }
            print("draft stored as message \(message.uuidString.lowercased()); send-message job \(job)")
        }
    }
}

/// A conversation command's change: a ``ConversationStoreError`` is one line and exit status 1.
func change<T>(_ body: (PostgresClient) async throws -> T) async throws -> T {
    do {
        return try await withDatabase { _, db in try await body(db) }
    } catch let error as ConversationStoreError {
        printError("error: \(error)")
        throw ExitCode(1)
    }
}

/// A UUID argument, or a usage error naming what it should be.
func uuid(_ text: String, _ what: String) throws -> UUID {
    guard let id = UUID(uuidString: text) else { throw ValidationError("the \(what) id must be a UUID") }
    return id
}
