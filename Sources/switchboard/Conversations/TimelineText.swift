import Foundation
import SwitchboardConversations

/// A conversation's timeline for a terminal: the messages in order, each turn after its burst with what the
/// pipeline made of it.
enum TimelineText {
    static func render(_ t: ConversationTimeline) -> String {
        let c = t.conversation
        var out = [
            "conversation \(c.id.uuidString.lowercased())  \(c.status)\(c.handoffReason.map { " (\($0))" } ?? "")  customer \(c.customerName ?? "-")  \(c.channelKind)",
            "AI calls: \(t.aiCost.calls) (\(t.aiCost.hostedCalls) hosted), cost \(String(format: "%.4f", Double(t.aiCost.costMicroCents) / 1e6)) cents",
        ]
        let turnsByID = Dictionary(t.turns.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var shown = Set<UUID>()
        for m in t.messages {
            let arrow = m.direction == "inbound" ? "←" : "→"
            let state = m.sendState.map { " [\($0)\(m.providerStatus.map { ", \($0)" } ?? "")]" } ?? ""
            out.append("\(clock(m.sentAt ?? m.createdAt)) \(arrow) \(m.type == "text" ? "" : "(\(m.type)) ")\(oneLine(m.text ?? ""))\(state)")
            // A turn is shown after the last message of its burst.
            if let id = m.turnID, let turn = turnsByID[id], !shown.contains(id), turn.messageIDs.last == m.id {
                shown.insert(id)
                out += render(turn)
            }
        }
        for turn in t.turns where !shown.contains(turn.id) { out += render(turn) }
        return out.joined(separator: "\n")
    }

    static func render(_ turn: ConversationTimeline.Turn) -> [String] {
        var out = ["   ┌ turn \(turn.id.uuidString.lowercased().prefix(8)): \(turn.messageIDs.count) message(s)"]
        let intents = turn.intents.map { "\($0.name) \(String(format: "%.2f", $0.confidence))" }.joined(separator: ", ")
        out.append(
            "   │ intents: \(intents.isEmpty ? "none in scope" : intents)  sentiment \(turn.sentiment ?? "-")  urgency \(turn.urgency ?? "-")  language \(turn.language ?? "-")"
        )
        if !turn.retrievedArticles.isEmpty {
            let articles = turn.retrievedArticles.prefix(3).map { "\($0.externalID) \(String(format: "%.3f", $0.score))" }.joined(separator: ", ")
            out.append("   │ articles: \(articles)")
        }
        if let order = turn.order {
            let lines = order.lines.map { l in
                "\(l.quantity == l.quantity.rounded() ? String(Int(l.quantity)) : String(l.quantity)) \(l.unit ?? "") \(l.sku ?? "? " + l.candidates.joined(separator: "|"))"
            }
            out.append("   │ order \(order.id.uuidString.lowercased().prefix(8)) \(order.status): \(lines.joined(separator: "; "))")
        }
        out.append(
            "   │ decision: \(turn.decision ?? "pending")\(turn.reason.map { " (\($0))" } ?? "")\(turn.latencyMs.map { "  \(String(format: "%.0f", $0)) ms after the window closed" } ?? "")"
        )
        if let draft = turn.draft { out.append("   │ draft: \(oneLine(draft))") }
        out.append("   └")
        return out
    }

    static func oneLine(_ text: String) -> String {
        let flat = text.replacingOccurrences(of: "\n", with: " ⏎ ")
        return flat.count > 160 ? String(flat.prefix(157)) + "…" : flat
    }

    static func clock(_ date: Date) -> String {
        let f = DateFormatter()
        f.dateFormat = "HH:mm:ss"
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: date)
    }
}
