public import FoundationEssentials
import Logging
public import SwitchboardQueue
import SwitchboardAI
import SwitchboardConversations
import SwitchboardOrders
import SwitchboardPostgres
import SwitchboardProviders
import SwitchboardStore
import SwitchboardUnderstanding

/// `decide-turn`: the turn's answer — reply, draft for a person, or handoff with a reason (``DecisionRules``) — composed
/// by the tenant's reply models when configured, else by the embedded writer (``ReplyComposer``), and stored with the
/// outbound message in one transaction fenced by the conversation's lock, so a stale holder (paused past its lease)
/// writes nothing. A reply (or a handoff notice) goes out through `send-message`, enqueued with the completion.
///
/// Newer-message guard: if the customer wrote again after the turn's last message, the turn is `superseded` — checked
/// before composing and again in the transaction that stores the answer (`send-message` checks once more before
/// sending). The next turn's answer covers the superseded turns' questions. Idempotent: a decided turn is not decided
/// again; a re-run only re-enqueues its reply's send if that never happened.
struct DecideTurnStage: PipelineStage {
    let pipeline: Pipeline
    init(_ pipeline: Pipeline) { self.pipeline = pipeline }

    /// What the decision reads, in one transaction.
    struct Snapshot: Sendable {
        var turn: ConversationTurn
        var status: String
        var streak: Int
        var order: StoredOrder?
        /// Earlier turns of the conversation superseded and not yet answered.
        var unanswered: [ConversationTurn]
        var newer: Bool
        var replyState: String?
        var settings: PipelineSettings
        /// The conversation's working context (nil before its first decided turn) and what an expired conversation of
        /// the customer's left (``DecideTurnStage/memorySnapshot(_:turn:conn:)``).
        var memory: MemorySnapshot
    }

    /// What a run did, for logs and tests.
    enum Outcome: Sendable, Equatable {
        case decided(TurnDecision, reply: UUID?)
        case superseded
        case alreadyDecided
    }

    func run(_ p: DecideTurn, context: JobContext) async throws {
        switch try await decide(p, context: context) {
        case .decided(let d, let reply):
            context.logger.info(
                "turn decided", metadata: ["decision": "\(d.kind.rawValue)", "reason": "\(d.reason.rawValue)", "reply": "\(reply != nil)"])
        case .superseded: context.logger.info("turn superseded by a newer message")
        case .alreadyDecided: context.logger.info("turn already decided")
        }
    }

    func decide(_ p: DecideTurn, context: JobContext) async throws -> Outcome {
        let started = Date()
        let db = pipeline.db
        guard let snap = try await db.withTenant(p.tenant, { conn in try Self.snapshot(p, conn: conn) }) else {
            throw DoNotRetry("no turn \(p.turn) in conversation \(p.conversation) for this tenant")
        }
        if snap.turn.decision != nil {
            // Decided by a run that stopped before its completion: its reply's send was never enqueued.
            if let reply = snap.turn.replyMessageID, snap.replyState == "queued" {
                try context.enqueueOnSuccess(SendMessage(tenant: p.tenant, message: reply), options: pipeline.successorOptions())
            }
            return .alreadyDecided
        }
        if snap.newer {
            try await supersede(p, context: context, started: started)
            return .superseded
        }
        guard var understanding = snap.turn.understanding else { throw DoNotRetry("turn \(p.turn) was never understood") }
        var passages = snap.turn.retrieval ?? []
        var text = snap.turn.text
        // The superseded turns before this one are answered with it: their intents and passages join this turn's.
        for earlier in snap.unanswered {
            if let u = earlier.understanding {
                for intent in u.intents where !understanding.intents.contains(where: { $0.name == intent.name }) {
                    understanding.intents.append(
                        TurnUnderstanding.Intent(name: intent.name, confidence: intent.confidence, source: intent.source, segment: -1))
                }
                understanding.outOfScope = understanding.outOfScope && u.outOfScope
            }
            passages = (earlier.retrieval ?? []) + passages
            text = earlier.text + "\n" + text
        }
        let order = snap.turn.orderOutcome.map { TurnOrder(outcome: $0, order: snap.order) }
        let decision: TurnDecision
        let composed: String
        var answersEarlier: UUID? = nil
        if snap.status == "open", understanding.intents.contains(where: { $0.name == LexiconIntents.forgotRequest }) {
            // "Did you forget my question?": the last unanswered question is answered (or handed to a person).
            (decision, composed, answersEarlier) = try await answerForgotten(snap, language: understanding.language, p: p, context: context)
        } else {
            decision = DecisionRules.decide(
                DecisionInput(
                    understanding: understanding, passages: passages, order: order, conversationStatus: snap.status,
                    lowConfidenceStreak: snap.streak, settings: snap.settings))
            var names: [String: String] = [:]
            if let lines = snap.order?.lines, lines.contains(where: \.isAmbiguous) {
                names = Dictionary(
                    try await pipeline.orders.catalog(tenant: p.tenant).products.map { ($0.sku, $0.name) }, uniquingKeysWith: { a, _ in a })
            }
            var inputs = ReplyInputs(
                text: text, understanding: understanding, decision: decision, passages: passages,
                order: order?.understood == true ? snap.order : nil, productNames: names)
            inputs.restored = snap.memory.restored(turnHasOrder: inputs.order != nil)
            composed = try await compose(inputs, p: p, context: context)
        }
        let conversationContext = snap.memory.contextAfter(
            turn: snap.turn, understanding: understanding, order: order?.understood == true ? snap.order : nil, decision: decision,
            status: snap.status, settings: snap.settings)
        // A handoff notice goes out once, when the conversation passes to a person; a draft waits for one.
        let sends = decision.kind == .reply || (decision.kind == .handoff && snap.status != "handoff")
        let turn = snap.turn
        let covered = snap.unanswered.map(\.id) + (answersEarlier.map { [$0] } ?? [])
        let stageStarted = started
        await pipeline.testFault?.stall(.stallDecide, for: .seconds(5))
        // The write runs to its end even if the job is cancelled meanwhile (a lost lease): the fence, checked in the
        // transaction, is what refuses a stale holder, and a transaction is never cut in half.
        let write = Task { [db] in
            try await db.withTenant(p.tenant, fencedBy: context) { conn -> Outcome in
                if let again = try TurnStore.load(id: p.turn, conn: conn), again.decision != nil { return .alreadyDecided }
                if try TurnStore.hasNewerInbound(than: turn, tenant: p.tenant, conn: conn) {
                    try Self.markSuperseded(p.turn, conn: conn)
                    return .superseded
                }
                let reply = sends ? try SendMessage.insert(composed, tenant: p.tenant, conversation: p.conversation, conn: conn) : nil
                try conn.execute(
                    """
                    UPDATE conversation_turns SET decision = $2, reason = $3, draft = $4, reply_message_id = $5, decided_at = now() WHERE id = $1
                    """,
                    [
                        .uuid(p.turn), .text(decision.kind.rawValue), .text(decision.reason.rawValue),
                        decision.kind == .draft ? .text(composed) : .null, reply.map(PostgresValue.uuid) ?? .null,
                    ])
                if !covered.isEmpty {
                    try conn.execute(
                        "UPDATE conversation_turns SET answered_by = $1 WHERE id = ANY($2::uuid[]) AND answered_by IS NULL",
                        [.uuid(p.turn), .textArray(covered.map(\.uuidString))])
                }
                try ContextStore.save(conversationContext, tenant: p.tenant, conn: conn)
                if decision.kind == .handoff {
                    try conn.execute(
                        """
                        UPDATE conversations SET status = 'handoff', handoff_reason = $2, handoff_at = now(), low_confidence_streak = 0
                        WHERE id = $1 AND status = 'open'
                        """, [.uuid(p.conversation), .text(decision.reason.rawValue)])
                } else if snap.status == "open" {
                    try conn.execute(
                        "UPDATE conversations SET low_confidence_streak = CASE WHEN $2 THEN low_confidence_streak + 1 ELSE 0 END WHERE id = $1",
                        [.uuid(p.conversation), .bool(decision.lowConfidence)])
                }
                try TurnStore.recordStage("decide", StageRun(context, startedAt: stageStarted), turn: p.turn, conn: conn)
                return .decided(decision, reply: reply)
            }
        }
        let written: Outcome
        do { written = try await write.value } catch let stale as StaleFence {
            context.logger.notice("decision refused: \(stale)")
            throw DoNotRetry("\(stale)")
        }
        if case .decided(_, let reply?) = written {
            try context.enqueueOnSuccess(SendMessage(tenant: p.tenant, message: reply), options: pipeline.successorOptions())
        }
        return written
    }

    /// The answer's text: the tenant's reply models when it has them (passages and order delimited as data), with the
    /// embedded writer as the last link; the embedded writer alone without hosted models. A handoff notice is fixed.
    func compose(_ inputs: ReplyInputs, p: DecideTurn, context: JobContext) async throws -> String {
        let embedded = ReplyComposer.compose(inputs)
        guard let ai = pipeline.ai, inputs.decision.kind == .reply || inputs.decision.kind == .draft,
            try await ai.hasHostedModels(tenant: p.tenant, agent: .reply)
        else { return embedded }
        var inputs = inputs
        inputs.history = try await pipeline.db.withTenant(p.tenant) { conn in
            try SummaryStore.history(conversation: p.conversation, tenant: p.tenant, recent: 8, conn: conn)
        }
        let answer = try await ai.ask(
            tenant: p.tenant, agent: .reply, messages: ReplyPrompt.messages(inputs), as: ReplyPrompt.Output.self,
            run: CallRun(jobID: context.id, attempt: context.attempt, conversation: p.conversation), maxTokens: 400,
            deadline: context.deadline, embedded: { ReplyPrompt.Output(text: embedded) })
        return answer.value.text
    }

    func supersede(_ p: DecideTurn, context: JobContext, started: Date) async throws {
        try await pipeline.db.withTenant(p.tenant, fencedBy: context) { conn in
            try Self.markSuperseded(p.turn, conn: conn)
            try TurnStore.recordStage("decide", StageRun(context, startedAt: started), turn: p.turn, conn: conn)
        }
    }

    static func markSuperseded(_ turn: UUID, conn: PostgresConnection) throws {
        try conn.execute(
            "UPDATE conversation_turns SET decision = 'superseded', reason = 'newer_message', decided_at = now() WHERE id = $1 AND decision IS NULL",
            [.uuid(turn)])
    }

    static func snapshot(_ p: DecideTurn, conn: PostgresConnection) throws -> Snapshot? {
        guard let turn = try TurnStore.load(id: p.turn, conn: conn), turn.conversationID == p.conversation,
            let conversation = try conn.query("SELECT status, low_confidence_streak FROM conversations WHERE id = $1", [.uuid(p.conversation)]).first
        else { return nil }
        let unanswered = try TurnStore.unanswered(before: turn, tenant: p.tenant, conn: conn)
        let memory = try memorySnapshot(p, turn: turn, conn: conn)
        let replyState = try turn.replyMessageID.flatMap {
            try conn.query("SELECT send_state FROM messages WHERE id = $1", [.uuid($0)]).first?.decodeIfPresent("send_state", as: String.self)
        }
        return Snapshot(
            turn: turn, status: try conversation.decode("status"), streak: try conversation.decode("low_confidence_streak"),
            order: try turn.orderID.flatMap { try OrderStore.load(id: $0, conn: conn) }, unanswered: unanswered,
            newer: try TurnStore.hasNewerInbound(than: turn, tenant: p.tenant, conn: conn), replyState: replyState,
            settings: try PipelineSettingsStore.load(conn), memory: memory)
    }
}
