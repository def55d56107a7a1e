/// A few unit vectors per intent that stand for its examples: spherical k-means over each intent's sentence vectors.
/// A turn's similarity to the nearest prototype of any intent says how much it looks like something the assistant
/// was trained on — the out-of-scope score. (The classifier's own confidence says which intent, not whether any:
/// a question about the weather can still be "most like" delivery_period.) Sixteen prototypes an intent keep nearly
/// all of what the nearest training example would say, in 1/8 of the space.
public enum Prototypes {
    /// `perLabel` prototypes for each label (fewer when it has fewer examples), flattened, label by label.
    /// Deterministic: members seeded by `seed`, a fixed number of rounds, ties to the lower index.
    public static func fit(vectors: [[Float]], labels: [Int], labelCount: Int, perLabel: Int, seed: UInt64, rounds: Int = 15) -> [Float] {
        guard let dimension = vectors.first?.count else { return [] }
        var generator = SplitMix64(seed: seed)
        var out: [Float] = []
        for label in 0..<labelCount {
            let members = vectors.indices.filter { labels[$0] == label }
            guard !members.isEmpty else { continue }
            var order = members
            for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(generator.next() % UInt64(i + 1))) }
            var centres = order.prefix(min(perLabel, members.count)).map { vectors[$0] }
            for _ in 0..<rounds {
                var sums = [[Float]](repeating: [Float](repeating: 0, count: dimension), count: centres.count)
                var counts = [Int](repeating: 0, count: centres.count)
                for m in members {
                    let c = nearest(vectors[m], centres)
                    counts[c] += 1
                    for d in 0..<dimension { sums[c][d] += vectors[m][d] }
                }
                for c in centres.indices where counts[c] > 0 {
                    let norm = sums[c].reduce(0) { $0 + $1 * $1 }.squareRoot()
                    if norm > 0 { centres[c] = sums[c].map { $0 / norm } }
                }
            }
            for centre in centres { out += centre }
        }
        return out
    }

    /// The highest cosine between `vector` and any of the flattened `prototypes` (unit vectors of `dimension`).
    public static func similarity(_ vector: [Float], _ prototypes: [Float], dimension: Int) -> Float {
        guard dimension > 0, vector.count == dimension else { return 0 }
        var best: Float = -1
        prototypes.withUnsafeBufferPointer { p in
            vector.withUnsafeBufferPointer { v in
                var start = 0
                while start + dimension <= p.count {
                    var dot: Float = 0
                    for d in 0..<dimension { dot += v[d] * p[start + d] }
                    if dot > best { best = dot }
                    start += dimension
                }
            }
        }
        return best
    }

    private static func nearest(_ v: [Float], _ centres: [[Float]]) -> Int {
        var best = 0
        var bestDot = -Float.infinity
        for (c, centre) in centres.enumerated() {
            var dot: Float = 0
            for d in 0..<v.count { dot += v[d] * centre[d] }
            if dot > bestDot {
                bestDot = dot
                best = c
            }
        }
        return best
    }
}
