import ArgumentParser
import Foundation
import SwitchboardConversations
import SwitchboardQueue

extension ConversationsCommand {
    /// `switchboard conversations settings`: a tenant's pipeline knobs; with no option, what they are.
    struct SettingsCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "settings",
            abstract: "Show or change a tenant's pipeline settings: burst window and max wait, flush types, confidence bar, always-human intents.",
            discussion: """
                Defaults: a burst ends after 5s of quiet or 20s after its first message; order, interactive and button
                messages end a burst at once; a turn is answered automatically at confidence 0.95 or above; no intent is
                always handed off. Workers pick a change up within 10 seconds.
                """)
        @Option(help: "Tenant id.") var tenant: String
        @Option(help: "Quiet time that ends a burst (e.g. 5s, 1500ms).") var window: String?
        @Option(help: "Longest a burst waits after its first message (e.g. 20s).") var maxWait: String?
        @Option(help: "Message types that end a burst at once, comma-separated (empty for none).") var flushTypes: String?
        @Option(help: "Confidence at or above which a turn is answered automatically (0–1).") var threshold: Double?
        @Option(help: "Intents always handed to a person, comma-separated (empty for none).") var alwaysHuman: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let tenant = try uuid(self.tenant, "tenant")
            let changing = window != nil || maxWait != nil || flushTypes != nil || threshold != nil || alwaysHuman != nil
            let saved = try await withDatabase { _, db -> PipelineSettings in
                let store = PipelineSettingsStore(db: db, ttl: .zero)
                var s = try await store.settings(tenant: tenant)
                guard changing else { return s }
                do {
                    if let window { s.burstWindow = try DurationText.parse(window) }
                    if let maxWait { s.burstMaxWait = try DurationText.parse(maxWait) }
                } catch { throw ValidationError("\(error)") }
                if let flushTypes { s.flushTypes = Set(list(flushTypes)) }
                if let threshold { s.confidenceThreshold = threshold }
                if let alwaysHuman { s.alwaysHuman = Set(list(alwaysHuman)) }
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
                """)
        }

        private func list(_ text: String) -> [String] {
            text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
    }
}
