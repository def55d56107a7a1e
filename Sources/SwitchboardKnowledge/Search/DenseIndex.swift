public import FoundationEssentials

/// A tenant's embedded passages in one contiguous matrix, searched by brute force: every passage's cosine with the
/// query (vectors are unit length, so a dot product), best passage per article.
///
/// Brute force is exact and, at help-center sizes, cheap: 10,000 passages × 384 dimensions is 3.8 M multiply-adds,
/// about a millisecond. It stops being the right tool around a few hundred thousand passages per tenant (tens of
/// milliseconds per query and ~150 MB of vectors per worker); the next step would be an approximate index (HNSW)
/// kept beside this one, rebuilt per generation.
public struct DenseIndex: Sendable {
    public let generation: Int64
    public let chunks: [ChunkVector]
    private let matrix: [Float]
    private let dimension: Int

    public init(generation: Int64, chunks: [ChunkVector]) {
        self.generation = generation
        self.chunks = chunks
        self.dimension = chunks.first?.vector.count ?? 0
        self.matrix = chunks.flatMap(\.vector)
    }

    /// Each chunk's similarity to `query`, in chunk order.
    public func similarities(_ query: [Float]) -> [Float] {
        guard dimension > 0, query.count == dimension else { return Array(repeating: 0, count: chunks.count) }
        var out = [Float](repeating: 0, count: chunks.count)
        matrix.withUnsafeBufferPointer { m in
            query.withUnsafeBufferPointer { q in
                for c in 0..<chunks.count {
                    let row = m.baseAddress! + c * dimension
                    var sum = SIMD8<Float>()
                    for d in stride(from: 0, to: dimension, by: 8) {
                        sum +=
                            UnsafeRawPointer(row + d).loadUnaligned(as: SIMD8<Float>.self)
                            * UnsafeRawPointer(q.baseAddress! + d).loadUnaligned(as: SIMD8<Float>.self)
                    }
                    out[c] = sum.sum()
                }
            }
        }
        return out
    }

    /// Articles ranked by their best passage plus `secondWeight` × their second best (an article that answers in
    /// two places beats one with a single lucky passage): (article, best chunk index, score), best first.
    public func rankArticles(_ query: [Float], secondWeight: Float = 0) -> [(article: UUID, chunk: Int, score: Float)] {
        var best: [UUID: (chunk: Int, scores: [Float])] = [:]
        for (i, score) in similarities(query).enumerated() {
            let article = chunks[i].articleID
            var current = best[article] ?? (chunk: i, scores: [])
            if score > (current.scores.first ?? -2) { current.chunk = i }
            current.scores.append(score)
            best[article] = current
        }
        // best + w·second + w²·third: passages past the third add nothing (a long article must not win by length).
        return best.map { entry in
            let top = entry.value.scores.sorted(by: >).prefix(3)
            var score: Float = 0
            var weight: Float = 1
            for s in top {
                score += weight * max(0, s)
                weight *= secondWeight
            }
            return (article: entry.key, chunk: entry.value.chunk, score: score)
        }.sorted { $0.score > $1.score }
    }
}
