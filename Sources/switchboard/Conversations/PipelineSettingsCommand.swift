import ArgumentParser
import Foundation
import SwitchboardConversations
import SwitchboardQueue

extension ConversationsCommand {
    /// `switchboard conversations settings`: a tenant's pipeline knobs; with no option, what they are.
    struct SettingsCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "settings",
            abstract:
                "Show or change a tenant's pipeline settings: bursts, confidence bar, always-human intents, context idle time, summaries, retention.",
            discussion: """
                Defaults: a burst ends after 5s of quiet or 20s after its first message; order, interactive and button
                messages end a burst at once; a turn is answered automatically at confidence 0.95 or above; no intent is
                always handed off; a conversation quiet for 30m closes (its key facts kept on the customer); a conversation
                is summarised every 20 messages; raw provider payloads are deleted after 90 days. Workers pick a change up
                within 10 seconds.
                """)
        @Option(help: "Tenant id.") var tenant: String
        @Option(help: "Quiet time that ends a burst (e.g. 5s, 1500ms).") var window: String?
        @Option(help: "Longest a burst waits after its first message (e.g. 20s).") var maxWait: String?
        @Option(help: "Message types that end a burst at once, comma-separated (empty for none).") var flushTypes: String?
        @Option(help: "Confidence at or above which a turn is answered automatically (0–1).") var threshold: Double?
        @Option(help: "Intents always handed to a person, comma-separated (empty for none).") var alwaysHuman: String?
        @Option(help: "Quiet time after which a conversation closes and its context expires (e.g. 30m, whole seconds).") var contextIdle: String?
        @Option(help: "Summarise a conversation every this many messages (2–10000).") var summaryEvery: Int?
        @Option(help: "Delete raw provider payloads after this many days (1–3650).") var payloadRetentionDays: Int?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let tenant = try uuid(self.tenant, "tenant")
            let changing =
                window != nil || maxWait != nil || flushTypes != nil || threshold != nil || alwaysHuman != nil || contextIdle != nil
                || summaryEvery != nil || payloadRetentionDays != nil
            let saved = try await withDatabase { _, db -> PipelineSettings in
                let store = PipelineSettingsStore(db: db, ttl: .zero)
                var s = try await store.settings(tenant: tenant)
                guard changing else { return s }
                do {
                    if let window { s.burstWindow = try DurationText.parse(window) }
                    if let maxWait { s.burstMaxWait = try DurationText.parse(maxWait) }
                    if let contextIdle { s.contextIdle = try DurationText.parse(contextIdle) }
                } catch { throw ValidationError("\(error)") }
                if let flushTypes { s.flushTypes = Set(list(flushTypes)) }
                if let threshold { s.confidenceThreshold = threshold }
                if let alwaysHuman { s.alwaysHuman = Set(list(alwaysHuman)) }
                if let summaryEvery { s.summaryEvery = summaryEvery }
                if let payloadRetentionDays { s.payloadRetentionDays = payloadRetentionDays }
                do { try await store.save(s, tenant: tenant) } catch let error as PipelineSettingsError { throw ValidationError(error.description) }
                return s
            }
            if json { return print(try jsonText(saved)) }
            print(
                """
                burst window:    \(DurationText.format(saved.burstWindow))
                burst max wait:  \(DurationText.format(saved.burstMaxWait))
                flush types:     \(saved.flushTypes.sorted().joined(separator: ", "))
                confidence bar:  \(saved.confidenceThreshold)
                always human:    \(saved.alwaysHuman.isEmpty ? "-" : saved.alwaysHuman.sorted().joined(separator: ", "))
                context idle:    \(DurationText.format(saved.contextIdle))
                summary every:   \(saved.summaryEvery) messages
                raw payloads:    kept \(saved.payloadRetentionDays) days
                """)
        }

        private func list(_ text: String) -> [String] {
            text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
    }
}
