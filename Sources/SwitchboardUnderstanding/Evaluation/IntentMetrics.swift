/// Accuracy, macro-F1, per-intent precision and recall and the most frequent confusions of a set of predictions.
public struct IntentMetrics: Sendable, Codable {
    public struct PerIntent: Sendable, Codable {
        public var precision: Double
        public var recall: Double
        public var support: Int
    }
    public struct Confusion: Sendable, Codable {
        public var expected: String
        public var predicted: String
        public var count: Int
    }

    public var examples: Int
    public var accuracy: Double
    public var macroF1: Double
    public var perIntent: [String: PerIntent]
    public var confusions: [Confusion]

    public init(expected: [String], predicted: [String], confusionsShown: Int = 10) {
        examples = expected.count
        let correct = zip(expected, predicted).filter { $0 == $1 }.count
        accuracy = Self.round(expected.isEmpty ? 0 : Double(correct) / Double(expected.count))
        var perIntent: [String: PerIntent] = [:]
        var f1s: [Double] = []
        for label in Set(expected).sorted() {
            let tp = zip(expected, predicted).filter { $0 == label && $1 == label }.count
            let predictedCount = predicted.filter { $0 == label }.count
            let support = expected.filter { $0 == label }.count
            let p = predictedCount == 0 ? 0 : Double(tp) / Double(predictedCount)
            let r = support == 0 ? 0 : Double(tp) / Double(support)
            f1s.append(p + r == 0 ? 0 : 2 * p * r / (p + r))
            perIntent[label] = PerIntent(precision: Self.round(p), recall: Self.round(r), support: support)
        }
        macroF1 = Self.round(f1s.isEmpty ? 0 : f1s.reduce(0, +) / Double(f1s.count))
        self.perIntent = perIntent
        var pairs: [String: Int] = [:]
        for (e, p) in zip(expected, predicted) where e != p { pairs["\(e)\u{1}\(p)", default: 0] += 1 }
        confusions = pairs.map { key, count in
            let parts = key.split(separator: "\u{1}").map(String.init)
            return Confusion(expected: parts[0], predicted: parts[1], count: count)
        }
        .sorted { $0.count != $1.count ? $0.count > $1.count : ($0.expected, $0.predicted) < ($1.expected, $1.predicted) }
        .prefix(confusionsShown).map { $0 }
    }

    static func round(_ x: Double) -> Double { (x * 10000).rounded() / 10000 }
}

/// Out-of-scope detection measured at one threshold.
public struct OutOfScopeMetrics: Sendable, Codable {
    public var threshold: Double
    /// Out-of-scope queries scored below the threshold.
    public var recall: Double
    /// In-scope examples scored below the threshold (sent to a person for nothing).
    public var falseHandoff: Double
    public var outOfScopeQueries: Int
    public var inScopeExamples: Int

    public init(threshold: Double, inScope: [Double], outOfScope: [Double]) {
        self.threshold = IntentMetrics.round(threshold)
        recall = IntentMetrics.round(outOfScope.isEmpty ? 0 : Double(outOfScope.filter { $0 < threshold }.count) / Double(outOfScope.count))
        falseHandoff = IntentMetrics.round(inScope.isEmpty ? 0 : Double(inScope.filter { $0 < threshold }.count) / Double(inScope.count))
        outOfScopeQueries = outOfScope.count
        inScopeExamples = inScope.count
    }
}
