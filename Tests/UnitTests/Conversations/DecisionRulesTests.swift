import Foundation
import SwitchboardConversations
@testable import SwitchboardOrders
@testable import SwitchboardUnderstanding
import Testing

/// A turn's understanding as the classifier would give it.
private func understood(
    _ intents: [(String, Double, TurnUnderstanding.Intent.Source)], outOfScope: Bool = false, sentiment: Sentiment.Label = .neutral,
    language: TurnLanguage = .english
) -> TurnUnderstanding {
    TurnUnderstanding(
        intents: intents.enumerated().map { .init(name: $1.0, confidence: $1.1, source: $1.2, segment: $0) }, outOfScope: outOfScope,
        confidence: intents.map(\.1).max() ?? 0, similarity: 0.6, outOfScopeThreshold: 0.49,
        sentiment: Sentiment(label: sentiment, score: sentiment == .negative ? -0.6 : 0), urgency: .normal, entities: [], language: language,
        parts: [], timings: .init(embeddingMs: 0, headsMs: 0, totalMs: 0))
}

private let passage = TurnPassage(
    articleID: UUID(), externalID: "hn-invoices", title: "Invoices and statements",
    text: "Invoices and statements. Copies. Ask us on WhatsApp for a copy of any invoice.", score: 0.05, similarity: 0.7, query: "invoice")

private func order(_ lines: [OrderLine]) -> StoredOrder {
    let extraction = OrderExtraction(isOrder: true, lines: lines, unmatched: [])
    return StoredOrder(
        id: UUID(), tenantID: UUID(), conversationID: UUID(), status: extraction.requiresReview ? .review : .pending,
        requiresReview: extraction.requiresReview, confidence: extraction.confidence, isValid: extraction.isValid, totalCents: 0, currency: nil,
        warnings: extraction.warnings.map(\.description), unmatched: [], source: "text", version: 1, createdAt: Date(), updatedAt: Date(),
        decidedAt: nil, decidedBy: nil, lines: lines, sources: [])
}

private func decide(
    _ u: TurnUnderstanding, passages: [TurnPassage] = [], order: TurnOrder? = nil, status: String = "open", streak: Int = 0,
    alwaysHuman: Set<String> = []
) -> String {
    var settings = PipelineSettings()
    settings.alwaysHuman = alwaysHuman
    let d = DecisionRules.decide(
        DecisionInput(understanding: u, passages: passages, order: order, conversationStatus: status, lowConfidenceStreak: streak, settings: settings)
    )
    return "\(d.kind.rawValue) \(d.reason.rawValue)"
}

@Suite("The reply / draft / handoff rules and the embedded writer")
struct DecisionRulesTests {
    @Test func eachRuleGivesItsDecision() {
        #expect(decide(understood([("contact_human_agent", 1, .model)])) == "handoff human_requested")
        #expect(decide(understood([("complaint", 0.99, .model)], sentiment: .negative)) == "handoff complaint_negative")
        // A complaint said calmly is not a handoff by itself.
        #expect(decide(understood([("complaint", 0.99, .model)]), passages: [passage]) == "reply answered")
        #expect(decide(understood([("payment_issue", 0.97, .model)])) == "handoff payment_problem")
        #expect(decide(understood([], outOfScope: true)) == "handoff out_of_scope")
        #expect(decide(understood([("cancel_order", 1, .model)]), passages: [passage], alwaysHuman: ["cancel_order"]) == "handoff always_human_topic")
        #expect(decide(understood([("get_invoice", 0.99, .model)]), passages: [passage], status: "handoff") == "draft conversation_in_handoff")
        // Below the bar: a draft, then a handoff on the second in a row.
        #expect(decide(understood([("delivery_period", 0.9, .lexicon)]), passages: [passage]) == "draft low_confidence")
        #expect(decide(understood([("delivery_period", 0.9, .lexicon)]), passages: [passage], streak: 1) == "handoff low_confidence_repeated")
        #expect(decide(understood([("get_invoice", 0.99, .model)])) == "draft no_knowledge")
        #expect(decide(understood([("get_invoice", 0.99, .model)]), passages: [passage]) == "reply answered")
        #expect(decide(understood([("greeting", 0.97, .lexicon)])) == "reply small_talk")
    }

    @Test func anUnderstoodOrderIsConfirmedAndAnUnreadableOneDrafted() {
        let roma = OrderLine(
            sku: "ROMA", name: "Roma tomatoes", text: "tomate roma", quantity: 5, unit: "kg", unitPriceCents: 140, confidence: 1, match: .exact)
        let vague = OrderLine(
            sku: nil, name: "tomates", text: "tomates", quantity: 3, unit: "kg", confidence: 0.5, match: .partial, candidates: ["ROMA", "VINE"])
        let orderTurn = understood([("place_order", 0.9, .orderLines), ("track_order", 0.4, .model)])
        #expect(decide(orderTurn, order: TurnOrder(outcome: "wrote", order: order([roma]))) == "reply order_confirmation")
        // An ambiguous line is asked about in the reply, not sent to a person.
        #expect(decide(orderTurn, order: TurnOrder(outcome: "wrote", order: order([vague]))) == "reply order_confirmation")
        #expect(decide(orderTurn, order: TurnOrder(outcome: "nothing-matched", order: nil)) == "draft order_unclear")
    }

    @Test func theEmbeddedWriterQuotesPassagesAndAsksAboutAmbiguousLines() {
        let vague = OrderLine(
            sku: nil, name: "tomates", text: "tomates", quantity: 3, unit: "kg", confidence: 0.5, match: .partial, candidates: ["ROMA", "VINE"])
        let u = understood([("place_order", 0.9, .orderLines)], language: .spanish)
        let reply = ReplyComposer.compose(
            ReplyInputs(
                text: "quiero 3 kg de tomates", understanding: u, decision: TurnDecision(.reply, .orderConfirmation), passages: [],
                order: order([vague]), productNames: ["ROMA": "Roma tomatoes", "VINE": "Vine tomatoes"]))
        #expect(reply.contains("- 3 kg tomates (?)") && reply.contains("¿se refiere a Roma tomatoes o Vine tomatoes?"))
        let answer = ReplyComposer.compose(
            ReplyInputs(
                text: "invoice copy?", understanding: understood([("get_invoice", 0.99, .model)]), decision: TurnDecision(.reply, .answered),
                passages: [passage], order: nil, productNames: [:]))
        #expect(answer == "Copies. Ask us on WhatsApp for a copy of any invoice.", "the passage without its title")
        let handoff = ReplyComposer.compose(
            ReplyInputs(text: "x", understanding: u, decision: TurnDecision(.handoff, .humanRequested), passages: [], order: nil, productNames: [:]))
        #expect(handoff.hasPrefix("Gracias por escribirnos"))
    }
}
