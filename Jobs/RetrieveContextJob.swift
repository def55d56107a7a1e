public import FoundationEssentials
import Logging
public import SwitchboardQueue
import SwitchboardConversations
import SwitchboardKnowledge
import SwitchboardEmbedding
import SwitchboardPostgres
import SwitchboardStore
import SwitchboardUnderstanding

/// `retrieve-context`: help-center passages for the turn's questions. Each part of the turn the model read as a
/// question (not small talk, not an order) is searched on its own (hybrid retrieval, the tenant's KB), all parts'
/// vectors in one embedding call; the best passages per part are stored on the turn. A join member of `decide-turn`.
struct RetrieveContextStage: PipelineStage {
    let pipeline: Pipeline
    init(_ pipeline: Pipeline) { self.pipeline = pipeline }

    /// Passages kept per question part.
    static let perQuery = 3
    /// An article the dense side scored below this (cosine with the article's vector, blended with the question's pool
    /// neighbours') is not an answer: the lexical sides alone do not make one.
    static let minimumSimilarity = 0.3

    func run(_ p: RetrieveContext, context: JobContext) async throws {
        let started = Date()
        let db = pipeline.db
        let (found, stored) = try await db.withTenant(p.tenant) { conn in
            (try TurnStore.load(id: p.turn, conn: conn), try TurnStore.queryVectors(turn: p.turn, conn: conn))
        }
        guard let turn = found else { throw DoNotRetry("no turn \(p.turn) for this tenant") }
        if let stored = turn.retrieval {
            try context.setJoinResult(stored.count)
            return
        }
        guard let retriever = pipeline.retriever, let understanding = turn.understanding else {
            throw DoNotRetry("retrieve-context needs the turn's understanding and a worker with the embedded model")
        }
        let queries = DecisionRules.retrievalQueries(understanding, text: turn.text)
        // understand-turn stored the queries' vectors (it had most of them already); embed only without them.
        let vectors = stored.count == queries.count ? stored : try await retriever.embedder.embed(queries.map(Retriever.searchText))
        var passages: [TurnPassage] = []
        for (query, vector) in zip(queries, vectors) {
            let found = try await retriever.search(tenant: p.tenant, query: query, k: Self.perQuery, vector: vector)
            for article in found {
                let similarity = article.parts.denseSimilarity
                guard (similarity ?? 0) >= Self.minimumSimilarity else { continue }
                passages.append(
                    TurnPassage(
                        articleID: article.articleID, externalID: article.externalID, title: article.title, text: article.chunkText,
                        score: article.score, similarity: similarity, query: query))
            }
        }
        let kept = passages
        try await db.withTenant(p.tenant) { conn in
            try TurnStore.saveRetrieval(kept, turn: p.turn, conn: conn)
            try TurnStore.recordStage("retrieve", StageRun(context, startedAt: started), turn: p.turn, conn: conn)
        }
        context.logger.info("passages retrieved", metadata: ["queries": "\(queries.count)", "passages": "\(kept.count)"])
        try context.setJoinResult(kept.count)
    }
}
