import FoundationEssentials
import SwitchboardConversations
import SwitchboardOrders
import SwitchboardPostgres
import SwitchboardQueue
import SwitchboardUnderstanding
import SwitchboardStore

/// What `decide-turn` reads about the conversation's memory, in its snapshot transaction.
struct MemorySnapshot: Sendable {
    /// The conversation's working context; nil before its first decided turn.
    var context: ConversationContext?
    /// What the customer's expired conversation left, when this is the first decided turn of a new one.
    var kept: CustomerMemory?
    /// The kept order draft, when it is still open.
    var pendingOrder: StoredOrder?
    var profileName: String?
    var lastActivityAt: Date
    /// For a "did you forget my question?" turn: the question and its order.
    var forgotten: ConversationTurn?
    var forgottenOrder: StoredOrder?

    /// What the reply brings back for a returning customer (the kept order is listed unless the turn's own order is).
    func restored(turnHasOrder: Bool) -> RestoredMemory? {
        guard context == nil, let kept else { return nil }
        return RestoredMemory(previousTopic: kept.previousTopic, pendingOrder: turnHasOrder ? nil : pendingOrder)
    }

    /// The context after the decided turn: the kept memory seeds a returning customer's first context.
    func contextAfter(
        turn: ConversationTurn, understanding: TurnUnderstanding, order: StoredOrder?, decision: TurnDecision, status: String,
        settings: PipelineSettings
    ) -> ConversationContext {
        let idle = Int(settings.contextIdle.components.seconds)
        var base = context
        if base == nil, let kept {
            var seeded = ConversationContext(conversationID: turn.conversationID, lastActivityAt: lastActivityAt, idleSeconds: idle)
            seeded.keyFacts = kept.keyFacts
            seeded.currentTopic = kept.previousTopic
            seeded.pendingAction = pendingOrder != nil ? kept.pendingAction : nil
            seeded.restoredFrom = kept.previousConversation
            base = seeded
        }
        return ConversationContext.after(
            base, conversation: turn.conversationID, understanding: understanding, order: order, decision: decision,
            lastActivityAt: lastActivityAt, idleSeconds: idle, open: status == "open" && decision.kind != .handoff, profileName: profileName)
    }
}

extension DecideTurnStage {
    static func memorySnapshot(_ p: DecideTurn, turn: ConversationTurn, conn: PostgresConnection) throws -> MemorySnapshot {
        let context = try ContextStore.load(conversation: p.conversation, conn: conn)
        let customer = try ContextStore.customer(of: p.conversation, conn: conn)
        var snap = MemorySnapshot(
            context: context, kept: context == nil ? customer.memory : nil, profileName: customer.profileName,
            lastActivityAt: customer.lastActivityAt)
        if let id = snap.kept?.pendingAction?.orderID, let order = try OrderStore.load(id: id, conn: conn), order.status.isOpen {
            snap.pendingOrder = order
        }
        if turn.understanding?.intents.contains(where: { $0.name == LexiconIntents.forgotRequest }) == true {
            snap.forgotten = try TurnStore.lastUnansweredQuestion(before: turn, tenant: p.tenant, conn: conn)
            snap.forgottenOrder = try snap.forgotten?.orderID.flatMap { try OrderStore.load(id: $0, conn: conn) }
        }
        return snap
    }

    /// The answer to "did you forget my question?": the last unanswered question answered now when the rules would
    /// answer it, else handed to a person (the customer has waited); when nothing is waiting, a request to ask again.
    /// Returns the decision, its text and the earlier turn it answers.
    func answerForgotten(
        _ snap: Snapshot, language: TurnLanguage, p: DecideTurn, context: JobContext
    ) async throws -> (TurnDecision, String, UUID?) {
        let es = language == .spanish
        guard let earlier = snap.memory.forgotten, let understanding = earlier.understanding else {
            return (TurnDecision(.reply, .forgottenQuestion), MemoryText.nothingForgotten(spanish: es), nil)
        }
        let order = earlier.orderOutcome.map { TurnOrder(outcome: $0, order: snap.memory.forgottenOrder) }
        let passages = earlier.retrieval ?? []
        let would = DecisionRules.decide(
            DecisionInput(
                understanding: understanding, passages: passages, order: order, conversationStatus: "open", lowConfidenceStreak: 0,
                settings: snap.settings))
        guard would.kind == .reply else {
            return (TurnDecision(.handoff, .forgottenQuestion), MemoryText.forgottenHandoff(question: earlier.text, spanish: es), earlier.id)
        }
        let inputs = ReplyInputs(
            text: earlier.text, understanding: understanding, decision: would, passages: passages,
            order: order?.understood == true ? snap.memory.forgottenOrder : nil, productNames: [:])
        let answer = try await compose(inputs, p: p, context: context)
        return (
            TurnDecision(.reply, .forgottenQuestion), MemoryText.forgottenOpening(question: earlier.text, spanish: es) + "\n\n" + answer,
            earlier.id
        )
    }
}
