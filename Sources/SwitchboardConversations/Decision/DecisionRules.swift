public import SwitchboardOrders
public import SwitchboardUnderstanding

/// Everything the decision reads about a turn.
public struct DecisionInput: Sendable {
    public var understanding: TurnUnderstanding
    public var passages: [TurnPassage]
    /// The conversation's order after this turn, if the turn was read as an order (or amended the open one).
    public var order: TurnOrder?
    /// The conversation's status before the turn ('open' or 'handoff').
    public var conversationStatus: String
    /// Low-confidence turns in a row before this one.
    public var lowConfidenceStreak: Int
    public var settings: PipelineSettings

    public init(
        understanding: TurnUnderstanding, passages: [TurnPassage], order: TurnOrder?, conversationStatus: String, lowConfidenceStreak: Int,
        settings: PipelineSettings
    ) {
        (self.understanding, self.passages, self.order) = (understanding, passages, order)
        (self.conversationStatus, self.lowConfidenceStreak, self.settings) = (conversationStatus, lowConfidenceStreak, settings)
    }
}

/// What order extraction did for the turn, and the order as it now stands.
public struct TurnOrder: Sendable {
    /// `wrote`, `already-applied`, `not-an-order` or `nothing-matched`.
    public var outcome: String
    public var order: StoredOrder?

    public init(outcome: String, order: StoredOrder?) { (self.outcome, self.order) = (outcome, order) }

    /// The turn changed or made an order with lines.
    public var understood: Bool { (outcome == "wrote" || outcome == "already-applied") && !(order?.lines.isEmpty ?? true) }
}

/// The reply / draft / handoff rules, in the order they apply (docs/architecture.md, The turn pipeline):
/// 1. a conversation a person has taken over gets a draft for that person;
/// 2. handoff: the customer asks for a person; a complaint said with negative sentiment; a payment problem; nothing in
///    scope (and no order); an intent on the tenant's always-human list;
/// 3. an order the catalogue could not make sense of is drafted for a person;
/// 4. a turn understood below the tenant's threshold is drafted for a person, and the second such turn in a row hands
///    off; an order whose lines were understood is answered (a confirmation, asking about ambiguous lines); a question
///    no help-center passage answers is drafted;
/// 5. otherwise the turn is answered.
public enum DecisionRules {
    /// Intents the order stage answers (not counted against the confidence bar when the order was understood).
    public static let orderIntents: Set<String> = ["place_order", "change_order"]
    /// Intents answered without the help center (a forgotten question is answered from the conversation itself).
    public static let smallTalk: Set<String> = [LexiconIntents.greeting, LexiconIntents.thanks, LexiconIntents.forgotRequest]

    public static func decide(_ input: DecisionInput) -> TurnDecision {
        let u = input.understanding
        let names = Set(u.intents.map(\.name))
        let order = input.order
        let orderUnderstood = order?.understood ?? false
        if input.conversationStatus == "handoff" { return TurnDecision(.draft, .withPerson) }
        if names.contains("contact_human_agent") { return TurnDecision(.handoff, .humanRequested) }
        if names.contains("complaint"), u.sentiment.label == .negative { return TurnDecision(.handoff, .complaint) }
        if names.contains("payment_issue") { return TurnDecision(.handoff, .paymentProblem) }
        if u.outOfScope, !orderUnderstood { return TurnDecision(.handoff, .outOfScope) }
        if !names.isDisjoint(with: input.settings.alwaysHuman) { return TurnDecision(.handoff, .alwaysHuman) }
        let orderAsked = !names.isDisjoint(with: orderIntents) || u.intents.contains { $0.source == .orderLines }
        if orderAsked, !orderUnderstood { return TurnDecision(.draft, .orderUnclear) }
        // The confidence bar: every intent the turn is answered on. When the order stage understood the turn, its order
        // intents are answered by the order, and the model's unsure guesses beside them are what the order explains.
        let threshold = input.settings.confidenceThreshold
        let judged = u.intents.filter { intent in
            guard orderUnderstood else { return true }
            return !(orderIntents.contains(intent.name) || intent.source == .orderLines || (intent.source == .model && intent.confidence < threshold))
        }
        let confidence = judged.map(\.confidence).min() ?? (orderUnderstood ? 1 : u.confidence)
        let low = confidence < threshold
        if low {
            if input.lowConfidenceStreak + 1 >= 2 { return TurnDecision(.handoff, .repeatedLowConfidence, lowConfidence: true) }
            return TurnDecision(.draft, .lowConfidence, lowConfidence: true)
        }
        // An invalid reading (low confidence) that is not a question the customer can answer goes to a person; an
        // ambiguous line is asked about in the reply instead.
        if let stored = order?.order, orderUnderstood, !stored.isValid, !stored.lines.contains(where: \.isAmbiguous) {
            return TurnDecision(.draft, .orderUnclear)
        }
        let questions = judged.filter { !smallTalk.contains($0.name) && !orderIntents.contains($0.name) && $0.source != .orderLines }
        if !questions.isEmpty, input.passages.isEmpty { return TurnDecision(.draft, .noKnowledge) }
        if orderUnderstood { return TurnDecision(.reply, .orderConfirmation) }
        if questions.isEmpty { return TurnDecision(.reply, .smallTalk) }
        return TurnDecision(.reply, .answered)
    }

    /// Whether the turn needs help-center passages: an in-scope intent that is not small talk or an order.
    public static func needsRetrieval(_ u: TurnUnderstanding) -> Bool {
        u.intents.contains(where: needsRetrieval(intentOnly:))
    }

    /// Whether one intent is a question for the help center.
    public static func needsRetrieval(intentOnly intent: TurnUnderstanding.Intent) -> Bool {
        !smallTalk.contains(intent.name) && !orderIntents.contains(intent.name) && intent.source != .orderLines
    }

    /// Whether the turn may be (or change) an order: an order intent, order lines in its text, or an open draft.
    public static func needsOrder(_ u: TurnUnderstanding, hasOpenDraft: Bool) -> Bool {
        hasOpenDraft || u.intents.contains { orderIntents.contains($0.name) || $0.source == .orderLines }
    }

    /// The texts `retrieve-context` searches for a turn: each part an intent needing the help center came from, or the
    /// whole text when no part stands out.
    public static func retrievalQueries(_ u: TurnUnderstanding, text: String) -> [String] {
        var out: [String] = []
        for intent in u.intents where needsRetrieval(intentOnly: intent) {
            guard u.parts.indices.contains(intent.segment) else { continue }
            let segment = u.parts[intent.segment].segment.text
            if !out.contains(segment) { out.append(segment) }
        }
        return out.isEmpty ? [String(text.prefix(2000))] : out
    }
}
