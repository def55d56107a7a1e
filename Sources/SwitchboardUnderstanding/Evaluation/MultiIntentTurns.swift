/// Two-intent turns made from single-intent examples: two texts of different intents joined the ways customers join
/// requests (" and also ", ". Also, ", a line break). Deterministic for a seed.
public enum MultiIntentTurns {
    public static let joiners = [" and also ", ". Also, ", "\n"]

    public struct Turn: Sendable {
        public var text: String
        public var intents: (String, String)
    }

    public static func make(from rows: [LabelledText], count: Int, seed: UInt64) -> [Turn] {
        guard Set(rows.map(\.intent)).count >= 2 else { return [] }
        var generator = SplitMix64(seed: seed)
        var turns: [Turn] = []
        var attempts = 0
        while turns.count < count, attempts < count * 20 {
            attempts += 1
            let a = rows[Int(generator.next() % UInt64(rows.count))]
            let b = rows[Int(generator.next() % UInt64(rows.count))]
            guard a.intent != b.intent else { continue }
            let joiner = joiners[turns.count % joiners.count]
            var first = a.text
            while let last = first.last, ".?!".contains(last), joiner.hasPrefix(".") { first.removeLast() }
            turns.append(Turn(text: first + joiner + b.text, intents: (a.intent, b.intent)))
        }
        return turns
    }
}
