import SwitchboardUnderstanding

/// One customer's burst as the benchmark and the chaos run replay it: 3–5 messages (a greeting, order lines or
/// questions, a thank-you, in English and Spanish) with gaps of 0.2–2 s. The same seed gives the same bursts.
struct BurstPlan: Sendable {
    var phone: String
    var texts: [String]
    /// Seconds to wait after each message (the last one's is not used).
    var gaps: [Double]

    static let greetings = ["hola", "hi", "buenos días", "hello there", "buenas tardes"]
    static let middles = [
        "necesito 5 kg de tomate roma", "2 sacos de cebolla morada", "3 kg de zanahorias", "una caja de limones", "10 kg de papas",
        "I need 4 kg of carrots", "and 2 boxes of lemons", "how can I get a copy of my invoice?", "what is the minimum order?",
        "do you deliver on saturdays?", "¿a qué hora llega el pedido?", "6 kg of bananas please", "también 2 kg de aguacate",
    ]
    static let closers = ["gracias", "thanks!", "eso es todo", "that's all, thank you"]

    static func plans(count: Int, seed: UInt64) -> [BurstPlan] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { n in
            let size = 3 + Int(rng.next() % 3)
            var texts = [greetings[Int(rng.next() % UInt64(greetings.count))]]
            for _ in 0..<(size - 2) { texts.append(middles[Int(rng.next() % UInt64(middles.count))]) }
            texts.append(closers[Int(rng.next() % UInt64(closers.count))])
            let gaps = (0..<size).map { _ in 0.2 + 1.8 * Double(rng.next() % 10_000) / 10_000 }
            return BurstPlan(phone: "1777\(String(n + 1_000_000).suffix(7))\(seed % 10)", texts: texts, gaps: gaps)
        }
    }
}
