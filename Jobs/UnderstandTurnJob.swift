public import FoundationEssentials
import Logging
public import SwitchboardQueue
import SwitchboardConversations
import SwitchboardOrders
import SwitchboardPostgres
import SwitchboardStore
import SwitchboardUnderstanding
import SwitchboardKnowledge
import SwitchboardEmbedding

/// `understand-turn`: what the turn says — intents (several per turn), confidence, out-of-scope, sentiment, urgency,
/// entities, language — with the tenant's intent model (its own when trained, else the base model). Stored on the turn.
/// Then, by intent, the fan-out: `retrieve-context` for questions and `extract-order` for orders (or an answer to an
/// open order draft), joined by `decide-turn` once both have succeeded; a turn needing neither goes straight to
/// `decide-turn`. Idempotent: a re-run reuses the stored understanding.
struct UnderstandTurnStage: PipelineStage {
    let pipeline: Pipeline
    init(_ pipeline: Pipeline) { self.pipeline = pipeline }

    func run(_ p: UnderstandTurn, context: JobContext) async throws {
        let started = Date()
        let db = pipeline.db
        let (turn, hasDraft) = try await db.withTenant(p.tenant) { conn -> (ConversationTurn?, Bool) in
            (try TurnStore.load(id: p.turn, conn: conn), try OrderStore.hasOpenDraft(tenant: p.tenant, conversation: p.conversation, conn: conn))
        }
        guard let turn else { throw DoNotRetry("no turn \(p.turn) for this tenant") }
        var understanding = turn.understanding
        if understanding == nil {
            guard let embedder = pipeline.embedder, let models = pipeline.intentModels else {
                throw DoNotRetry("this worker has no embedded model or intent model; run understand-turn on a worker started with them")
            }
            let (model, threshold) = try await models.model(tenant: p.tenant)
            let classifier = TurnClassifier(model: model, embedder: embedder, outOfScopeThreshold: threshold)
            let (understood, embedded) = try await classifier.understandWithVectors(turn.text, burstSize: turn.messageIDs.count)
            understanding = understood
            // The vectors retrieve-context will search with: the parts' own where the search text is the part's text,
            // the rest embedded now in one call.
            var queryVectors: [[Float]] = []
            if DecisionRules.needsRetrieval(understood) {
                let queries = DecisionRules.retrievalQueries(understood, text: turn.text).map(Retriever.searchText)
                let missing = queries.filter { embedded[$0] == nil }
                let more = missing.isEmpty ? [] : try await embedder.embed(missing)
                let extra = Dictionary(zip(missing, more), uniquingKeysWith: { a, _ in a })
                queryVectors = queries.compactMap { embedded[$0] ?? extra[$0] }
            }
            let vectors = queryVectors
            try await db.withTenant(p.tenant) { conn in
                try TurnStore.saveUnderstanding(understood, turn: p.turn, conn: conn)
                if !vectors.isEmpty { try TurnStore.saveQueryVectors(vectors, turn: p.turn, conn: conn) }
                try TurnStore.recordStage("understand", StageRun(context, startedAt: started), turn: p.turn, conn: conn)
            }
        }
        guard let understanding else { return }
        context.logger.info(
            "turn understood",
            metadata: [
                "intents": "\(understanding.intents.map(\.name).joined(separator: ","))", "confidence": "\(understanding.confidence)",
                "out_of_scope": "\(understanding.outOfScope)",
            ])
        var members: [JobQueue.NewJob] = []
        if DecisionRules.needsRetrieval(understanding) {
            members.append(
                try JobQueue.NewJob(
                    RetrieveContext(tenant: p.tenant, conversation: p.conversation, turn: p.turn), options: pipeline.successorOptions()))
        }
        if DecisionRules.needsOrder(understanding, hasOpenDraft: hasDraft) {
            members.append(
                try JobQueue.NewJob(
                    ExtractOrder(tenant: p.tenant, conversation: p.conversation, messages: turn.messageIDs, turnID: p.turn),
                    options: pipeline.successorOptions()))
        }
        let decide = DecideTurn(tenant: p.tenant, conversation: p.conversation, turn: p.turn)
        if members.isEmpty {
            try context.enqueueOnSuccess(decide, options: pipeline.successorOptions())
        } else {
            try context.enqueueOnSuccess(members: members, thenJoin: try JobQueue.NewJob(decide, options: pipeline.successorOptions()))
        }
    }
}
