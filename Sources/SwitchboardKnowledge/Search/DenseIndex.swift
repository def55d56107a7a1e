public import FoundationEssentials

/// A tenant's embedded passages in one contiguous matrix, searched by brute force, and one vector per article.
///
/// **How an article is scored.** An article's vector is the mean of its passages' vectors, less half the help center's
/// mean passage (what every article shares: "our", "order", the distributor's tone), made unit length. A question
/// scores each article by cosine with that vector: on the Bitext questions this beat every way of combining an
/// article's best passages (docs/benchmarks.md), because a question is usually about the article's subject, not one
/// paragraph of it. With a ``QuestionPool``, the question's scores are blended with those of its nearest pool questions
/// (their scores against this tenant's articles, computed once per generation). The best body passage is still found,
/// to show and to quote.
///
/// Brute force is exact and, at help-center sizes, cheap: 10,000 passages × 384 dimensions is 3.8 M multiply-adds,
/// about a millisecond. It stops being the right tool around a few hundred thousand passages per tenant (tens of
/// milliseconds per query and ~150 MB of vectors per worker); the next step would be an approximate index (HNSW)
/// kept beside this one, rebuilt per generation.
public struct DenseIndex: Sendable {
    /// How much of the help center's mean passage is taken from each article's mean.
    public static let sharedPartRemoved: Float = 0.5

    public let generation: Int64
    public let chunks: [ChunkVector]
    private let matrix: [Float]
    private let dimension: Int
    /// Articles in order of first passage, and their unit vectors (row-major, articles × dimension).
    private let articles: [UUID]
    private let articleMatrix: [Float]
    private let pool: QuestionPool?
    /// Each pool question's cosine with each article vector (pool count × articles).
    private let poolScores: [Float]

    public init(generation: Int64, chunks: [ChunkVector], pool: QuestionPool? = nil) {
        self.generation = generation
        self.chunks = chunks
        let dimension = chunks.first?.vector.count ?? 0
        self.dimension = dimension
        self.matrix = chunks.flatMap(\.vector)
        var order: [UUID] = []
        var sums: [UUID: [Float]] = [:]
        var counts: [UUID: Int] = [:]
        var shared = [Float](repeating: 0, count: dimension)
        for chunk in chunks {
            if sums[chunk.articleID] == nil { order.append(chunk.articleID) }
            var sum = sums[chunk.articleID] ?? [Float](repeating: 0, count: dimension)
            for d in 0..<dimension {
                sum[d] += chunk.vector[d]
                shared[d] += chunk.vector[d] / Float(chunks.count)
            }
            sums[chunk.articleID] = sum
            counts[chunk.articleID, default: 0] += 1
        }
        var articleMatrix: [Float] = []
        articleMatrix.reserveCapacity(order.count * dimension)
        for article in order {
            let n = Float(counts[article]!)
            let v = sums[article]!.enumerated().map { $0.element / n - Self.sharedPartRemoved * shared[$0.offset] }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            articleMatrix += v.map { norm > 0 ? $0 / norm : 0 }
        }
        self.articles = order
        self.articleMatrix = articleMatrix
        let usable = pool.flatMap { $0.dimension == dimension && $0.count > 0 ? $0 : nil }
        self.pool = usable
        self.poolScores = usable?.scores(against: articleMatrix, rowCount: order.count) ?? []
    }

    /// Each chunk's similarity to `query`, in chunk order.
    public func similarities(_ query: [Float]) -> [Float] {
        guard dimension > 0, query.count == dimension else { return Array(repeating: 0, count: chunks.count) }
        return matrix.withUnsafeBufferPointer { m in query.withUnsafeBufferPointer { rowDots(m, rows: chunks.count, dimension: dimension, $0) } }
    }

    /// Articles ranked for `query`: (article, its best passage's chunk index, score), best first. The score is the
    /// cosine with the article's vector; with a pool, `(own + neighbours × borrowed) / (1 + neighbours)`, where
    /// borrowed is the neighbours' weighted mean score (a question with no neighbour keeps its own). `similarities` are
    /// the passages' (``similarities(_:)``) when the caller has them already.
    public func rankArticles(
        _ query: [Float], similarities passageSimilarities: [Float]? = nil, neighbours weight: Float = 1
    ) -> [(article: UUID, chunk: Int, score: Float)] {
        guard dimension > 0, query.count == dimension, !articles.isEmpty else { return [] }
        // The passage to quote: the best of the body's. An article's first passage is its title and keywords (chunks come
        // in article and position order): it says what the article is about and answers nothing, so it is the best only
        // of an article that has no other.
        var bestChunk: [UUID: (chunk: Int, similarity: Float)] = [:]
        for (i, s) in (passageSimilarities ?? similarities(query)).enumerated() {
            let article = chunks[i].articleID
            let isTitle = i == 0 || chunks[i - 1].articleID != article
            guard let current = bestChunk[article] else {
                bestChunk[article] = (i, s)
                continue
            }
            let currentIsTitle = current.chunk == 0 || chunks[current.chunk - 1].articleID != article
            if !isTitle && (currentIsTitle || s > current.similarity) { bestChunk[article] = (i, s) }
        }
        var scores = articleMatrix.withUnsafeBufferPointer { m in
            query.withUnsafeBufferPointer { rowDots(m, rows: articles.count, dimension: dimension, $0) }
        }
        if let pool, weight > 0 {
            let near = pool.neighbours(of: query)
            let total = near.reduce(Float(0)) { $0 + $1.weight }
            if total > 0 {
                for a in articles.indices {
                    var borrowed: Float = 0
                    for n in near { borrowed += n.weight * poolScores[n.index * articles.count + a] }
                    scores[a] = (scores[a] + weight * borrowed / total) / (1 + weight)
                }
            }
        }
        return articles.indices.map { (article: articles[$0], chunk: bestChunk[articles[$0]]!.chunk, score: scores[$0]) }
            .sorted { $0.score != $1.score ? $0.score > $1.score : $0.chunk < $1.chunk }
    }
}
