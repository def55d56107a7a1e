public import Foundation
public import SwitchboardOrders
public import SwitchboardUnderstanding

/// What a reply is made from: the turn's text and understanding, the help-center passages retrieved for it, and the
/// conversation's order as the turn left it. The embedded composer and a hosted model read the same inputs.
public struct ReplyInputs: Sendable {
    public var text: String
    public var understanding: TurnUnderstanding
    public var decision: TurnDecision
    public var passages: [TurnPassage]
    public var order: StoredOrder?
    /// Product names by SKU, for the candidates of ambiguous lines.
    public var productNames: [String: String]
    /// A returning customer's first turn: what their expired conversation left (the reply welcomes them back to it).
    public var restored: RestoredMemory? = nil
    /// The conversation's summary and latest messages (read for hosted models; the embedded writer needs none).
    public var history: ConversationHistory? = nil

    public init(
        text: String, understanding: TurnUnderstanding, decision: TurnDecision, passages: [TurnPassage], order: StoredOrder?,
        productNames: [String: String]
    ) {
        (self.text, self.understanding, self.decision, self.passages) = (text, understanding, decision, passages)
        (self.order, self.productNames) = (order, productNames)
    }

    /// Spanish for a Spanish turn, English otherwise.
    public var spanish: Bool { understanding.language == .spanish }
}

/// The embedded reply writer: fixed sentences in English or Spanish around the facts — the help-center passages as
/// written, the order lines as understood, a question for each ambiguous line. It never states anything the passages
/// and the order do not; what it cannot answer goes to a person by the decision rules, not here.
public enum ReplyComposer {
    /// At most this many passages are quoted (one per question part, best first).
    public static let maximumPassages = 2

    /// The text for the customer (a reply or a handoff notice), or for the person (a draft).
    public static func compose(_ inputs: ReplyInputs) -> String {
        let es = inputs.spanish
        switch inputs.decision.kind {
        case .handoff:
            return es
                ? "Gracias por escribirnos. Le paso su mensaje a una persona del equipo, que le responderá por aquí en breve."
                : "Thanks for your message. I'm passing it to a person on our team, who will reply here shortly."
        case .superseded: return ""
        case .reply, .draft: break
        }
        var parts: [String] = []
        let names = Set(inputs.understanding.intents.map(\.name))
        if let restored = inputs.restored {
            parts.append(MemoryText.welcomeBack(restored, spanish: es))
        } else if names.contains(LexiconIntents.greeting) {
            parts.append(es ? "¡Hola!" : "Hello!")
        }
        if let order = inputs.order, !order.lines.isEmpty { parts.append(orderText(order, names: inputs.productNames, spanish: es)) }
        for passage in chosenPassages(inputs.passages) { parts.append(passageText(passage)) }
        if names.contains(LexiconIntents.thanks), parts.count <= 1 { parts.append(es ? "¡Gracias a usted!" : "You're welcome!") }
        if parts.count <= 1, inputs.order == nil, inputs.passages.isEmpty, inputs.restored == nil {
            parts.append(es ? "¿En qué le podemos ayudar?" : "How can we help you today?")
        }
        return parts.joined(separator: "\n\n")
    }

    /// The best passage per question part, distinct articles, best first.
    public static func chosenPassages(_ passages: [TurnPassage]) -> [TurnPassage] {
        var byQuery: [String: TurnPassage] = [:]
        var order: [String] = []
        for p in passages {
            if let seen = byQuery[p.query] {
                if p.score > seen.score { byQuery[p.query] = p }
            } else {
                byQuery[p.query] = p
                order.append(p.query)
            }
        }
        var chosen: [TurnPassage] = []
        for query in order {
            guard let p = byQuery[query], !chosen.contains(where: { $0.articleID == p.articleID }) else { continue }
            chosen.append(p)
        }
        return Array(chosen.prefix(maximumPassages))
    }

    /// A passage as quoted: without the "Title." the chunker puts at the start of each passage (a section heading after
    /// it stays: telling it from a short first sentence would risk dropping a fact).
    static func passageText(_ p: TurnPassage) -> String {
        var body = Substring(p.text.trimmingCharacters(in: .whitespacesAndNewlines))
        if body.hasPrefix(p.title) {
            body = body.dropFirst(p.title.count).drop { $0 == "." || $0 == " " }
        }
        return body.isEmpty ? p.title : String(body)
    }

    /// The order as understood: one line per product, a question per ambiguous line, the products not carried.
    static func orderText(_ order: StoredOrder, names: [String: String], spanish es: Bool) -> String {
        var out: [String] = [es ? "Esto es lo que anoté de su pedido:" : "Here is what I noted for your order:"]
        var questions: [String] = []
        for line in order.lines {
            let amount = quantity(line.quantity) + (line.unit.map { " \($0)" } ?? "")
            if line.isAmbiguous {
                let options = line.candidates.prefix(4).map { names[$0] ?? $0 }
                out.append("- \(amount) \(line.text) (?)")
                let list = options.count > 1 ? options.dropLast().joined(separator: ", ") + (es ? " o " : " or ") + options.last! : options.joined()
                questions.append(es ? "Para \"\(line.text)\", ¿se refiere a \(list)?" : "For \"\(line.text)\", did you mean \(list)?")
            } else {
                out.append("- \(amount) \(line.name)")
            }
        }
        out += questions
        if !order.unmatched.isEmpty {
            let missing = order.unmatched.map(\.text).joined(separator: ", ")
            out.append(es ? "No encontramos en el catálogo: \(missing)." : "We could not find in our catalogue: \(missing).")
        }
        out.append(es ? "Una persona del equipo confirmará el pedido en breve." : "A person on our team will confirm the order shortly.")
        return out.joined(separator: "\n")
    }

    static func quantity(_ q: Double) -> String {
        q == q.rounded() ? String(Int(q)) : String(format: "%.2f", q).replacingOccurrences(of: #"0+$"#, with: "", options: .regularExpression)
    }
}
