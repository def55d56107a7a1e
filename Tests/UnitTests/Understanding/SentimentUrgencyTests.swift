import Testing

@testable import SwitchboardUnderstanding

/// The hand-written table the issue asks for: turns in English and Spanish with the sentiment and urgency a person
/// would give them. Intents are passed as the classifier would find them.
@Suite("Sentiment and urgency")
struct SentimentUrgencyTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let text: String
        let sentiment: Sentiment.Label
        let urgency: Urgency
        var intents: [String] = []
        var burst = 1
        var testDescription: String { text }
    }

    static let cases: [Case] = [
        // English
        Case(text: "where is my order?", sentiment: .neutral, urgency: .normal, intents: ["track_order"]),
        Case(text: "thanks, that was really helpful!", sentiment: .positive, urgency: .low, intents: ["thanks"]),
        Case(text: "hi there", sentiment: .neutral, urgency: .low, intents: ["greeting"]),
        Case(text: "This is the worst service ever, I am furious", sentiment: .negative, urgency: .high, intents: ["complaint"]),
        Case(text: "I need my order today, it's urgent", sentiment: .neutral, urgency: .high, intents: ["track_order"]),
        Case(text: "URGENT!!! the delivery never arrived and nobody answers", sentiment: .negative, urgency: .urgent, intents: ["complaint"]),
        Case(text: "the tomatoes arrived rotten, unacceptable", sentiment: .negative, urgency: .high, intents: ["complaint"]),
        Case(text: "great, the eggs were fresh and delivery was fast", sentiment: .positive, urgency: .low, intents: ["review"]),
        Case(text: "can I pay by card?", sentiment: .neutral, urgency: .low, intents: ["check_payment_methods"]),
        Case(text: "I'm not happy with the last delivery", sentiment: .negative, urgency: .high, intents: ["complaint"]),
        Case(text: "please cancel order 10293 asap", sentiment: .neutral, urgency: .urgent, intents: ["cancel_order"]),
        Case(text: "still waiting for my refund", sentiment: .negative, urgency: .high, intents: ["track_refund"]),
        Case(text: "my payment failed twice, what is going on", sentiment: .neutral, urgency: .normal, intents: ["payment_issue"]),
        Case(text: "I want to talk to a real person right now", sentiment: .neutral, urgency: .urgent, intents: ["contact_human_agent"]),
        Case(text: "love your products 😍", sentiment: .positive, urgency: .low, intents: ["review"]),
        Case(text: "the box was damaged 😡", sentiment: .negative, urgency: .high, intents: ["complaint"]),
        Case(text: "how much is a case of oil?", sentiment: .neutral, urgency: .low, intents: ["price_question"]),
        Case(text: "do you deliver to Valencia?", sentiment: .neutral, urgency: .low, intents: ["delivery_options"]),
        Case(text: "hello? hello? anyone there?", sentiment: .neutral, urgency: .high, intents: ["greeting"], burst: 3),
        Case(text: "not bad at all, thank you", sentiment: .positive, urgency: .low, intents: ["thanks"]),
        Case(text: "I need to change my shipping address", sentiment: .neutral, urgency: .normal, intents: ["change_shipping_address"]),
        Case(text: "this is ridiculous, third time the order is wrong!!!", sentiment: .negative, urgency: .urgent, intents: ["complaint"]),
        // Spanish
        Case(text: "¿dónde está mi pedido?", sentiment: .neutral, urgency: .normal, intents: ["track_order"]),
        Case(text: "muchas gracias, muy amables", sentiment: .positive, urgency: .low, intents: ["thanks"]),
        Case(text: "hola buenos días", sentiment: .neutral, urgency: .low, intents: ["greeting"]),
        Case(text: "pésimo servicio, estoy harto", sentiment: .negative, urgency: .high, intents: ["complaint"]),
        Case(text: "necesito el pedido ahora mismo, es urgente", sentiment: .neutral, urgency: .high, intents: ["place_order"]),
        Case(text: "URGENTE!!! no llegó nada y nadie contesta", sentiment: .negative, urgency: .urgent, intents: ["complaint"]),
        Case(text: "los tomates llegaron podridos, inaceptable", sentiment: .negative, urgency: .high, intents: ["complaint"]),
        Case(text: "excelente, todo llegó perfecto", sentiment: .positive, urgency: .low, intents: ["review"]),
        Case(text: "¿cuánto cuesta la caja de aceite?", sentiment: .neutral, urgency: .low, intents: ["price_question"]),
        Case(text: "¿hacen envíos a Monterrey?", sentiment: .neutral, urgency: .low, intents: ["delivery_options"]),
        Case(text: "no estoy contento con la entrega", sentiment: .negative, urgency: .normal, intents: ["delivery_period"]),
        Case(text: "quiero hablar con una persona", sentiment: .neutral, urgency: .normal, intents: ["contact_human_agent"]),
        Case(text: "sigo esperando mi reembolso", sentiment: .negative, urgency: .high, intents: ["track_refund"]),
        Case(text: "cancelen mi pedido lo antes posible", sentiment: .neutral, urgency: .urgent, intents: ["cancel_order"]),
        Case(text: "me encanta, todo fresco 🙏", sentiment: .positive, urgency: .low, intents: ["review"]),
        Case(text: "la caja llegó rota 😡", sentiment: .negative, urgency: .high, intents: ["complaint"]),
        Case(text: "hola? hola? hay alguien?", sentiment: .neutral, urgency: .high, intents: ["greeting"], burst: 4),
        Case(text: "5 kg de tomate roma y 2 cajas de cebolla", sentiment: .neutral, urgency: .normal, intents: ["place_order"]),
        Case(text: "es una vergüenza, quiero poner una queja", sentiment: .negative, urgency: .high, intents: ["complaint"]),
        Case(text: "todo bien, gracias", sentiment: .positive, urgency: .low, intents: ["thanks"]),
    ]

    @Test("the table holds", arguments: cases)
    func table(_ c: Case) {
        let sentiment = SentimentAnalyzer.analyze(c.text)
        #expect(sentiment.label == c.sentiment, "sentiment \(sentiment.score)")
        #expect(UrgencyRules.assess(text: c.text, sentiment: sentiment, intents: c.intents, burstSize: c.burst) == c.urgency)
    }

    @Test func tableIsLargeAndBilingual() {
        #expect(Self.cases.count >= 40)
        #expect(Self.cases.filter { LanguageDetector.detect($0.text) == .spanish }.count >= 18)
        #expect(Self.cases.filter { LanguageDetector.detect($0.text) == .english }.count >= 18)
    }

    @Test func negationFlipsAndIntensifiersStrengthen() {
        #expect(SentimentAnalyzer.analyze("good").score > 0)
        #expect(SentimentAnalyzer.analyze("not good").score < 0)
        #expect(SentimentAnalyzer.analyze("very bad").score < SentimentAnalyzer.analyze("bad").score)
        #expect(SentimentAnalyzer.analyze("no funciona").label == .negative)
    }
}
