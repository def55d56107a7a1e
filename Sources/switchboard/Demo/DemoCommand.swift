import ArgumentParser
import Foundation
import SwitchboardConversations
import SwitchboardHTTP
import SwitchboardPostgres
import SwitchboardStore
import SwitchboardQueue

/// `switchboard demo`: a few customers write to the demo tenant through the running `web`, and what the pipeline did
/// with each conversation is printed.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Post a few signed WhatsApp conversations to the running web and print what happened to each.",
        discussion: """
            Needs what scripts/dev starts: web, a worker, and the demo tenant with its WhatsApp channel, catalogue and
            help center (scripts/demo-data). Each run writes as new customers, so it can be repeated.
            """)
    @Option(help: "The running web's base URL.") var url = "http://127.0.0.1:\(ProcessInfo.processInfo.environment["PORT"] ?? "8080")"
    @Option(help: "Tenant id (default: the tenant named demo).") var tenant: String?
    @Option(help: "Longest to wait for every turn to be decided, in seconds.") var timeout = 90
    @Flag(help: "Print the conversations' timelines as JSON.") var json = false

    /// One customer's conversation: bursts of messages; each burst waits for the previous one's answer.
    struct Script: Sendable {
        let name: String
        let bursts: [[String]]
    }

    static let scripts = [
        Script(name: "Ana (restaurant)", bursts: [["hola", "necesito tomates", "5 kg de tomate roma y 2 sacos de cebolla morada"]]),
        Script(name: "Ben (café)", bursts: [["hi there", "how can I get a copy of my invoice?"]]),
        Script(name: "Carla (shop)", bursts: [["quiero 3 kg de tomates"], ["las roma, por favor"]]),
        Script(name: "Dan (caterer)", bursts: [["The lettuce arrived rotten.", "This is unacceptable, I want to make a complaint"]]),
        Script(name: "Eve", bursts: [["what's the weather like on mars?"]]),
    ]

    func run() async throws {
        let settings = try Settings.fromEnvironment()
        let box = try settings.secretBox()
        let http = HTTPClient(poolSize: 2)
        defer { Task { try? await http.shutdown() } }
        try await withDatabase { _, db in
            let tenantID = try await demoTenant(db)
            let store = ConversationStore(db: db)
            let channels = try await ChannelDirectory(db: db, secretBox: box)
            guard let channel = try await channels.channels(tenant: tenantID).first(where: { $0.kind == .whatsapp }),
                let (_, secrets) = try await channels.channel(id: channel.id, tenant: tenantID), let appSecret = secrets.appSecret
            else {
                printError("error: the demo tenant has no WhatsApp channel with an app secret; scripts/dev adds one")
                throw ExitCode(1)
            }
            let window = try await PipelineSettingsStore(db: db).settings(tenant: tenantID).burstWindow
            let poster = WhatsAppPoster(url: url, phoneNumberID: channel.address, appSecret: appSecret, http: http)
            let run = String(Int(Date().timeIntervalSince1970) % 100_000)
            let customers = Self.scripts.enumerated().map { n, script in (script, "1555\(run)\(n)") }
            if !json { print("posting \(customers.count) conversations to \(url) (bursts end after \(DurationText.format(window)) of quiet)…") }
            let deadline = ContinuousClock.now + .seconds(timeout)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (script, phone) in customers {
                    group.addTask {
                        for (n, burst) in script.bursts.enumerated() {
                            for text in burst {
                                try await poster.post(text, from: phone, name: script.name)
                                try await Task.sleep(for: .milliseconds(400))
                            }
                            try await waitForDecisions(n + 1, phone: phone, tenant: tenantID, store: store, until: deadline)
                        }
                    }
                }
                try await group.waitForAll()
            }
            // Let the replies' sends finish before printing their status.
            try await Task.sleep(for: .seconds(1))
            var timelines: [ConversationTimeline] = []
            for (_, phone) in customers {
                if let id = try await store.conversationID(tenant: tenantID, customerAddress: phone), let t = try await store.timeline(id: id) {
                    timelines.append(t)
                }
            }
            if json { return print(try jsonText(timelines)) }
            for (timeline, (script, _)) in zip(timelines, customers) { print("\n== \(script.name)\n" + Self.summary(timeline)) }
        }
    }

    private func demoTenant(_ db: PostgresClient) async throws -> UUID {
        if let tenant { return try uuid(tenant, "tenant") }
        guard let demo = try await TenantDirectory(db: db).tenant(named: "demo") else {
            printError("error: no tenant named demo; start scripts/dev (it creates one), or pass --tenant")
            throw ExitCode(1)
        }
        return demo.id
    }

    private func waitForDecisions(_ count: Int, phone: String, tenant: UUID, store: ConversationStore, until deadline: ContinuousClock.Instant)
        async throws
    {
        while ContinuousClock.now < deadline {
            if let id = try await store.conversationID(tenant: tenant, customerAddress: phone), let t = try await store.timeline(id: id),
                t.turns.filter({ $0.decision != nil }).count >= count
            {
                return
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        printError("error: a turn of \(phone) was not decided in time: are the web and a worker running (scripts/dev)?")
        throw ExitCode(1)
    }

    /// Per turn: the burst, intents, order, decision and the reply or draft.
    static func summary(_ t: ConversationTimeline) -> String {
        var out: [String] = []
        for (n, turn) in t.turns.enumerated() {
            out.append("turn \(n + 1): \(turn.messageIDs.count) message(s): \(TimelineText.oneLine(turn.text))")
            let intents = turn.intents.map { "\($0.name) \(String(format: "%.2f", $0.confidence))" }.joined(separator: ", ")
            out.append("  intents: \(intents.isEmpty ? "none in scope" : intents)")
            if !turn.retrievedArticles.isEmpty {
                out.append("  articles: \(turn.retrievedArticles.prefix(2).map(\.externalID).joined(separator: ", "))")
            }
            if let order = turn.order {
                let lines = order.lines.map { l in
                    let q = l.quantity == l.quantity.rounded() ? String(Int(l.quantity)) : String(l.quantity)
                    return l.ambiguous ? "\(q) \(l.unit ?? "") ? (\(l.candidates.joined(separator: " | ")))" : "\(q) \(l.unit ?? "") \(l.sku ?? "")"
                }
                out.append("  order \(order.status): \(lines.joined(separator: "; "))")
            }
            let latency = turn.latencyMs.map { String(format: " — %.0f ms after the window closed", $0) } ?? ""
            out.append("  decision: \(turn.decision ?? "pending")\(turn.reason.map { " (\($0))" } ?? "")\(latency)")
            if let reply = turn.reply {
                out.append("  reply [\(reply.sendState ?? "-")]: \((reply.text ?? "").replacingOccurrences(of: "\n", with: "\n         "))")
            }
            if let draft = turn.draft { out.append("  draft for a person: \(draft.replacingOccurrences(of: "\n", with: "\n         "))") }
        }
        out.append("conversation: \(t.conversation.status)\(t.conversation.handoffReason.map { " (\($0))" } ?? "")")
        return out.joined(separator: "\n")
    }
}
