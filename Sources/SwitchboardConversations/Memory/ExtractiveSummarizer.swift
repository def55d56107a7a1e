public import Foundation
import SwitchboardKnowledge
import SwitchboardUnderstanding

/// One message as the summariser reads it.
public struct SummaryMessage: Sendable, Equatable {
    public var seq: Int
    public var inbound: Bool
    public var text: String

    public init(seq: Int, inbound: Bool, text: String) { (self.seq, self.inbound, self.text) = (seq, inbound, text) }
}

/// The embedded summariser: picks the sentences of a stretch of conversation that carry its substance — what the
/// customer asked for (sentences with an intent the lexicon knows or words rare in the conversation), entities and
/// amounts (order numbers, quantities, prices, cities), and what we decided (our sentences with figures) — and
/// returns them in the order they were said, each marked with who said it. Greetings and thanks score nothing.
/// Deterministic: the same messages give the same summary, byte for byte.
public enum ExtractiveSummarizer {
    /// At most this many sentences, and at most this many characters in all.
    public static let maximumSentences = 8
    public static let maximumCharacters = 1200

    struct Sentence {
        var index: Int
        var inbound: Bool
        var text: String
        var words: [String]
        var score = 0.0
    }

    public static func summarize(_ messages: [SummaryMessage]) -> String {
        var sentences: [Sentence] = []
        for message in messages {
            for piece in split(message.text) {
                let words = TextFolding.words(TextFolding.fold(piece)).map(String.init)
                guard !words.isEmpty else { continue }
                sentences.append(Sentence(index: sentences.count, inbound: message.inbound, text: piece, words: words))
            }
        }
        guard !sentences.isEmpty else { return "" }
        // Inverse sentence frequency of each content word over this stretch: what is said once says the most.
        var frequency: [String: Int] = [:]
        for s in sentences {
            for w in Set(s.words) where w.count >= 4 { frequency[w, default: 0] += 1 }
        }
        let n = Double(sentences.count)
        let extractor = EntityExtractor()
        for i in sentences.indices {
            let s = sentences[i]
            let content = Set(s.words.filter { $0.count >= 4 })
            var score = content.reduce(0.0) { $0 + log(1 + n / Double(frequency[$1] ?? 1)) } / max(1, Double(s.words.count).squareRoot())
            let intents = LexiconIntents.match(s.text).map(\.intent).filter { !DecisionRules.smallTalk.contains($0) }
            score += 1.5 * Double(intents.count)
            score += 1.0 * Double(extractor.extract(s.text).count)
            if s.text.contains(where: \.isNumber) { score += 1.0 }
            if !s.inbound, !s.text.contains(where: \.isNumber) { score *= 0.5 }
            let small = LexiconIntents.match(s.text).allSatisfy { DecisionRules.smallTalk.contains($0.intent) }
            if small, s.words.count <= 4 { score = 0 }
            sentences[i].score = score
        }
        var chosen: [Sentence] = []
        var seen: Set<String> = []
        var characters = 0
        let ranked = sentences.filter { $0.score > 0 }.sorted { $0.score != $1.score ? $0.score > $1.score : $0.index < $1.index }
        for s in ranked where chosen.count < maximumSentences {
            let key = s.words.joined(separator: " ")
            guard !seen.contains(key), characters + s.text.count <= maximumCharacters else { continue }
            seen.insert(key)
            characters += s.text.count
            chosen.append(s)
        }
        return chosen.sorted { $0.index < $1.index }.map { "\($0.inbound ? "Customer" : "Us"): \($0.text)" }.joined(separator: "\n")
    }

    /// Sentences: split at line breaks and after . ! ? (a decimal point between digits does not end one).
    static func split(_ text: String) -> [String] {
        var out: [String] = []
        var current = ""
        let chars = Array(text)
        for (i, c) in chars.enumerated() {
            if c == "\n" {
                out.append(current)
                current = ""
                continue
            }
            current.append(c)
            if c == "." || c == "!" || c == "?" {
                let next = i + 1 < chars.count ? chars[i + 1] : " "
                let previous = i > 0 ? chars[i - 1] : " "
                if c == ".", previous.isNumber, next.isNumber { continue }
                if next == " " || next == "\n" || next == "\"" {
                    out.append(current)
                    current = ""
                }
            }
        }
        out.append(current)
        return out.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}
