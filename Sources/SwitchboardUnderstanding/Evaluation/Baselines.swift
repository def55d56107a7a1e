/// The plain baselines over the same sentence vectors, so every change shows what it buys: nearest centroid (cosine),
/// and out-of-scope by a cosine threshold to the centroids at the training data's 2 % quantile. (The logistic
/// regression baseline is `IntentTrainer` with the gram features off.)
public struct CentroidBaseline: Sendable {
    public var labels: [String]
    public var centroids: [[Float]]
    public var threshold: Float

    public init(_ examples: [IntentExample], quantile: Double = 0.02) {
        labels = Array(Set(examples.map(\.label))).sorted()
        let dimension = examples.first?.vector.count ?? 0
        var sums = [[Float]](repeating: [Float](repeating: 0, count: dimension), count: labels.count)
        let index = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1, $0) })
        for example in examples {
            let k = index[example.label]!
            for d in 0..<dimension { sums[k][d] += example.vector[d] }
        }
        centroids = sums.map { sum in
            let norm = sum.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return sum.map { $0 / max(norm, 1e-9) }
        }
        threshold = 0
        let scores = examples.map { Double(best($0.vector).score) }.sorted()
        threshold = scores.isEmpty ? 0 : Float(scores[min(scores.count - 1, Int(Double(scores.count) * quantile))])
    }

    public func best(_ vector: [Float]) -> (label: String, score: Float) {
        var bestIndex = 0
        var bestScore = -Float.infinity
        for (k, centroid) in centroids.enumerated() {
            var dot: Float = 0
            for d in 0..<min(vector.count, centroid.count) { dot += vector[d] * centroid[d] }
            if dot > bestScore {
                bestScore = dot
                bestIndex = k
            }
        }
        return (labels[bestIndex], bestScore)
    }
}
