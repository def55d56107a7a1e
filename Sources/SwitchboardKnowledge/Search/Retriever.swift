public import FoundationEssentials
public import SwitchboardEmbedding
import SwitchboardPostgres
import SwitchboardStore
import Synchronization

/// Which signals a search uses: all three fused (the default), or one alone (to measure what each buys).
public enum RetrievalMode: String, Sendable, Codable, CaseIterable {
    case hybrid
    case dense
    case fullText = "full-text"
    case title
}

/// How the three rankings are fused. With `k = 0` (the default) an article's score is the weighted sum of its
/// signals' scores, each divided by the best score of its ranking (the dense score is already a cosine sum); with
/// `k > 0`, reciprocal rank fusion, Σ weight / (k + rank). Score fusion measured better on the Bitext questions
/// (recall@3 0.944 against 0.939, MRR 0.844 against 0.818): ranks throw away how far apart two articles are.
public struct FusionWeights: Sendable, Codable, Hashable {
    public var dense: Double
    public var fullText: Double
    public var title: Double
    public var k: Double
    /// How much a question's dense scores borrow from its nearest pool questions' (``DenseIndex/rankArticles(_:neighbours:)``);
    /// 0 turns the pool off.
    public var neighbours: Double

    /// The defaults were chosen with `switchboard eval retrieval` on the Bitext questions (docs/benchmarks.md): the
    /// lexical rankings are weak alone (full text recall@3 0.72) and only break the dense ranking's near-ties.
    public init(dense: Double = 1.0, fullText: Double = 0.1, title: Double = 0.2, k: Double = 0, neighbours: Double = 1.0) {
        (self.dense, self.fullText, self.title, self.k, self.neighbours) = (dense, fullText, title, k, neighbours)
    }

    /// "dense,fullText,title,k[,neighbours]", as `--weights` takes it.
    public init?(_ text: String) {
        let parts = text.split(separator: ",").compactMap { Double($0) }
        guard parts.count == 4 || parts.count == 5 else { return nil }
        self.init(dense: parts[0], fullText: parts[1], title: parts[2], k: parts[3], neighbours: parts.count == 5 ? parts[4] : 1)
    }
}

/// One article a search found, with its best passage and what its score is made of.
public struct RetrievedArticle: Sendable, Codable, Hashable {
    public struct Parts: Sendable, Codable, Hashable {
        public var denseRank: Int?
        public var denseSimilarity: Double?
        public var fullTextRank: Int?
        public var fullTextScore: Double?
        public var titleRank: Int?
        public var titleSimilarity: Double?
    }
    public let articleID: UUID
    public let externalID: String
    public let title: String
    public let chunkText: String
    public let score: Double
    public let parts: Parts
}

/// Hybrid retrieval over a tenant's help center: PostgreSQL full-text rank (`ts_rank_cd` over passage tsvectors),
/// trigram similarity of titles, and dense cosine with article vectors (``DenseIndex``, borrowing from the question's
/// ``QuestionPool`` neighbours when there is a pool), fused by score (``FusionWeights``).
///
/// The dense side keeps each tenant's vectors in memory (``DenseIndex``), reloaded when the tenant's knowledge
/// generation moves (an import or an embedding write); a search checks the generation in the same round trip as
/// its full-text and title queries.
public final class Retriever: Sendable {
    public let store: KBStore
    public let embedder: EmbeddingService
    public let weights: FusionWeights
    /// How deep each ranking is read before fusion.
    public let depth: Int
    /// Typical customer questions the dense side borrows from (nil: each question alone).
    public let pool: QuestionPool?
    private let indexes = Mutex<[UUID: DenseIndex]>([:])

    public init(
        store: KBStore, embedder: EmbeddingService, weights: FusionWeights = FusionWeights(), depth: Int = 20, pool: QuestionPool? = nil
    ) {
        (self.store, self.embedder, self.weights, self.depth, self.pool) = (store, embedder, weights, depth, pool)
    }

    /// The `k` best articles for `query`. `vector` is the query's embedding when the caller already has it.
    public func search(
        tenant: UUID, query rawQuery: String, k: Int = 5, mode: RetrievalMode = .hybrid, vector: [Float]? = nil
    ) async throws -> [RetrievedArticle] {
        let query = Self.searchText(rawQuery)
        let lexical = try await lexicalRanks(tenant: tenant, query: query, mode: mode)
        let usesDense = mode == .hybrid || mode == .dense
        // The full-text and title modes never read the vectors, so they do not load them.
        let index = usesDense ? try await denseIndex(tenant: tenant, generation: lexical.generation) : DenseIndex(generation: 0, chunks: [])
        var dense: [(article: UUID, chunk: Int, score: Float)] = []
        var passageSimilarities: [Float] = []
        if usesDense, !index.chunks.isEmpty {
            let queryVector: [Float]
            if let vector { queryVector = vector } else { queryVector = try await embedder.embed(query) }
            passageSimilarities = index.similarities(queryVector)
            dense = index.rankArticles(queryVector, similarities: passageSimilarities, neighbours: Float(weights.neighbours))
        }
        return fuse(
            dense: Array(dense.prefix(depth)), lexical: lexical, index: index, passageSimilarities: passageSimilarities, mode: mode, k: k)
    }

    /// A question as search reads it: reference numbers, amounts and other digit runs removed (an order number
    /// says nothing about which article answers; it only adds noise to every ranking). Embed this, not the raw text.
    public static func searchText(_ question: String) -> String {
        let kept = question.split(whereSeparator: \.isWhitespace).filter { word in
            let digits = word.filter(\.isNumber).count
            return digits == 0 || digits * 2 < word.count
        }
        let text = kept.joined(separator: " ")
        return text.isEmpty ? question : text
    }

    /// The cached index for `tenant`, reloaded if its generation is not `generation`.
    public func denseIndex(tenant: UUID, generation: Int64) async throws -> DenseIndex {
        if let cached = indexes.withLock({ $0[tenant] }), cached.generation == generation { return cached }
        let loaded = try await store.chunkVectors(tenant: tenant, model: SentenceEncoder.modelID)
        let index = DenseIndex(generation: loaded.generation, chunks: loaded.chunks, pool: pool)
        indexes.withLock { $0[tenant] = index }
        return index
    }

    struct LexicalHit {
        let article: UUID
        let externalID: String
        let title: String
        let chunkText: String
        let score: Double
    }

    struct LexicalRanks {
        var generation: Int64 = 0
        var fullText: [LexicalHit] = []
        var title: [LexicalHit] = []
    }

    /// Full-text and title rankings and the tenant's generation, in one transaction.
    func lexicalRanks(tenant: UUID, query: String, mode: RetrievalMode) async throws -> LexicalRanks {
        let depth = Int64(depth)
        let folded = TextFolding.fold(query)
        return try await store.db.withTenant(tenant) { conn in
            var ranks = LexicalRanks()
            ranks.generation =
                try KBStore.generation(tenant, conn)
            if mode == .hybrid || mode == .fullText {
                // Any word may match (OR, as BM25 does), stemmed in each language the tenant's passages use.
                ranks.fullText = try conn.query(
                    """
                    WITH languages AS (SELECT DISTINCT language FROM kb_articles WHERE deleted_at IS NULL AND active),
                    parts AS (SELECT replace(plainto_tsquery(language, $1)::text, '&', '|') AS p FROM languages),
                    query AS (SELECT string_agg(p, ' | ')::tsquery AS q FROM parts WHERE p <> ''),
                    best AS (
                        SELECT DISTINCT ON (c.article_id) c.article_id, c.text, ts_rank_cd(c.tsv, query.q) AS score
                        FROM kb_chunks c JOIN kb_articles a ON a.id = c.article_id, query
                        WHERE query.q IS NOT NULL AND c.retired_at IS NULL AND a.deleted_at IS NULL AND a.active AND c.tsv @@ query.q
                        ORDER BY c.article_id, score DESC
                    )
                    SELECT b.article_id, a.external_id, a.title, b.text, b.score FROM best b JOIN kb_articles a ON a.id = b.article_id
                    ORDER BY b.score DESC, a.priority DESC, a.external_id LIMIT $2
                    """, [.text(query), .int(depth)]
                ).map(Self.hit)
            }
            if mode == .hybrid || mode == .title {
                ranks.title = try conn.query(
                    """
                    SELECT a.id AS article_id, a.external_id, a.title, '' AS text, word_similarity(a.search_title, $1) AS score
                    FROM kb_articles a WHERE a.deleted_at IS NULL AND a.active AND word_similarity(a.search_title, $1) > 0.1
                    ORDER BY score DESC, a.priority DESC, a.external_id LIMIT $2
                    """, [.text(folded), .int(depth)]
                ).map(Self.hit)
            }
            return ranks
        }
    }

    private static func hit(_ row: PostgresRow) throws -> LexicalHit {
        LexicalHit(
            article: try row.decode("article_id"), externalID: try row.decode("external_id"), title: try row.decode("title"),
            chunkText: try row.decode("text"), score: try row.decode("score"))
    }

    /// How close to the best passage's similarity the full-text ranking's passage must be to be quoted instead.
    static let passageAgreement: Float = 0.05

    func fuse(
        dense: [(article: UUID, chunk: Int, score: Float)], lexical: LexicalRanks, index: DenseIndex, passageSimilarities: [Float] = [],
        mode: RetrievalMode, k: Int
    ) -> [RetrievedArticle] {
        struct Candidate {
            var externalID = ""
            var title = ""
            var chunkText = ""
            var score = 0.0
            var parts = RetrievedArticle.Parts()
        }
        var candidates: [UUID: Candidate] = [:]
        // Reciprocal rank (k > 0), or, with k = 0, the signals' own scores, each scaled by the best of its ranking.
        let topFullText = lexical.fullText.first?.score ?? 1
        func contribution(_ weight: Double, rank: Int, score: Double, top: Double) -> Double {
            weights.k > 0 ? weight / (weights.k + Double(rank + 1)) : weight * (top > 0 ? score / top : 0)
        }
        for (rank, hit) in dense.enumerated() {
            let chunk = index.chunks[hit.chunk]
            var c = candidates[hit.article, default: Candidate()]
            (c.externalID, c.title, c.chunkText) = (chunk.externalID, chunk.title, chunk.text)
            c.score += contribution(weights.dense, rank: rank, score: Double(hit.score), top: 1)
            (c.parts.denseRank, c.parts.denseSimilarity) = (rank + 1, Double(hit.score))
            candidates[hit.article] = c
        }
        // The passage quoted: the dense ranking's best, unless the full-text ranking's best passage of the same article is
        // nearly as close in meaning (within ``passageAgreement``): then both signals point at it.
        var denseChunk: [UUID: Int] = [:]
        for hit in dense { denseChunk[hit.article] = hit.chunk }
        for (rank, hit) in lexical.fullText.enumerated() {
            var c = candidates[hit.article, default: Candidate()]
            if c.externalID.isEmpty { (c.externalID, c.title, c.chunkText) = (hit.externalID, hit.title, hit.chunkText) }
            if let best = denseChunk[hit.article], best < passageSimilarities.count, hit.chunkText != c.chunkText,
                let lexicalChunk = index.chunks.indices.first(where: {
                    index.chunks[$0].articleID == hit.article && index.chunks[$0].text == hit.chunkText
                }),
                passageSimilarities[lexicalChunk] >= passageSimilarities[best] - Self.passageAgreement
            {
                c.chunkText = hit.chunkText
            }
            c.score += contribution(mode == .hybrid ? weights.fullText : 1, rank: rank, score: hit.score, top: topFullText)
            (c.parts.fullTextRank, c.parts.fullTextScore) = (rank + 1, hit.score)
            candidates[hit.article] = c
        }
        for (rank, hit) in lexical.title.enumerated() {
            var c = candidates[hit.article, default: Candidate()]
            if c.externalID.isEmpty { (c.externalID, c.title) = (hit.externalID, hit.title) }
            c.score += contribution(mode == .hybrid ? weights.title : 1, rank: rank, score: hit.score, top: 1)
            (c.parts.titleRank, c.parts.titleSimilarity) = (rank + 1, hit.score)
            candidates[hit.article] = c
        }
        // Ties (equal full-text ranks are common) break by dense similarity, then by the lexical rankings' own order,
        // then by id: never by the dictionary's order, which changes from process to process.
        return candidates.sorted { a, b in
            let (x, y) = (a.value, b.value)
            if x.score != y.score { return x.score > y.score }
            if (x.parts.denseSimilarity ?? 0) != (y.parts.denseSimilarity ?? 0) {
                return (x.parts.denseSimilarity ?? 0) > (y.parts.denseSimilarity ?? 0)
            }
            if (x.parts.fullTextRank ?? .max) != (y.parts.fullTextRank ?? .max) {
                return (x.parts.fullTextRank ?? .max) < (y.parts.fullTextRank ?? .max)
            }
            if (x.parts.titleRank ?? .max) != (y.parts.titleRank ?? .max) { return (x.parts.titleRank ?? .max) < (y.parts.titleRank ?? .max) }
            return x.externalID < y.externalID
        }.prefix(k).map {
            RetrievedArticle(
                articleID: $0.key, externalID: $0.value.externalID, title: $0.value.title, chunkText: $0.value.chunkText,
                score: $0.value.score, parts: $0.value.parts)
        }
    }
}
