import Foundation
@testable import SwitchboardConversations
@testable import SwitchboardUnderstanding
import Testing

@Suite("Conversation memory (units)")
struct MemoryUnitTests {
    private func understood(_ intents: [String], entities: [Entity] = []) -> TurnUnderstanding {
        TurnUnderstanding(
            intents: intents.enumerated().map { .init(name: $1, confidence: 0.97, source: .lexicon, segment: $0) }, outOfScope: false,
            confidence: 0.97, similarity: 0.6, outOfScopeThreshold: 0.49, sentiment: Sentiment(label: .neutral, score: 0), urgency: .normal,
            entities: entities, language: .english, parts: [], timings: .init(embeddingMs: 0, headsMs: 0, totalMs: 0))
    }

    @Test func theSummaryPicksTheSentencesWithSubstanceInOrderAndIsTheSameEveryTime() {
        var messages = (1...21).map { SummaryMessage(seq: $0, inbound: $0 % 2 == 1, text: $0 % 2 == 1 ? "ok" : "Thanks!") }
        messages[4].text = "I need 12 boxes of roma tomatoes for Monday. Thanks."
        messages[8].text = "Deliver to 14 Mayor street, Bilbao please"
        messages[11] = SummaryMessage(seq: 12, inbound: false, text: "Here is what I noted: 12 boxes of Roma tomatoes at 18.50 each.")
        messages[14].text = "Where is my invoice for order 48213?"
        let summary = ExtractiveSummarizer.summarize(messages)
        let lines = summary.split(separator: "\n").map(String.init)
        #expect(lines.first == "Customer: I need 12 boxes of roma tomatoes for Monday.")
        #expect(lines.contains("Customer: Deliver to 14 Mayor street, Bilbao please"))
        #expect(lines.contains("Us: Here is what I noted: 12 boxes of Roma tomatoes at 18.50 each."))
        #expect(lines.last == "Customer: Where is my invoice for order 48213?")
        #expect(!lines.contains { $0.hasSuffix(": ok") || $0.hasSuffix("Thanks!") })
        #expect(ExtractiveSummarizer.summarize(messages) == summary)
        #expect(ExtractiveSummarizer.summarize([]) == "")
    }

    @Test func sentencesSplitAtStopsButNotInsideNumbers() {
        #expect(ExtractiveSummarizer.split("It costs 18.50 per box. Send 3!\nOK?") == ["It costs 18.50 per box.", "Send 3!", "OK?"])
    }

    @Test func aForgottenQuestionIsRecognisedInBothLanguages() {
        for text in ["did you forget my question?", "Hello?? You didn't answer", "¿Se olvidaron de mi pregunta?", "sigo esperando una respuesta"] {
            #expect(LexiconIntents.match(text).contains { $0.intent == LexiconIntents.forgotRequest }, "\(text)")
        }
        #expect(!LexiconIntents.match("I forgot my password").contains { $0.intent == LexiconIntents.forgotRequest })
    }

    @Test func theContextKeepsTheTopicThroughSmallTalkAndStopsExpiringWithAPerson() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let conversation = UUID()
        let city = Entity(kind: .city, text: "Bilbao", value: "Bilbao", currency: nil, start: 0, end: 6)
        var ctx = ConversationContext.after(
            nil, conversation: conversation, understanding: understood(["track_order"], entities: [city]), order: nil,
            decision: TurnDecision(.reply, .answered), lastActivityAt: now, idleSeconds: 1800, open: true, profileName: "Ana")
        #expect(ctx.currentTopic == "track_order" && ctx.keyFacts == KeyFacts(name: "Ana", city: "Bilbao"))
        #expect(ctx.extractedEntities == ["city": "Bilbao"] && ctx.expiresAt == now.addingTimeInterval(1800))
        ctx = ConversationContext.after(
            ctx, conversation: conversation, understanding: understood([LexiconIntents.thanks]), order: nil,
            decision: TurnDecision(.reply, .smallTalk), lastActivityAt: now.addingTimeInterval(60), idleSeconds: 1800, open: false,
            profileName: "Ana")
        #expect(ctx.currentTopic == "track_order" && ctx.keyFacts.city == "Bilbao" && ctx.expiresAt == nil)
    }

    @Test func keyFactsMergeNewerFirstAndKeepFiveProducts() {
        let old = KeyFacts(name: "Ana", city: "Bilbao", usualProducts: ["A", "B", "C", "D"])
        let merged = old.merged(with: KeyFacts(city: "Getxo", usualProducts: ["E", "B", "F"]))
        #expect(merged == KeyFacts(name: "Ana", city: "Getxo", usualProducts: ["E", "B", "F", "A", "C"]))
    }

    @Test func theWelcomeBackNamesThePreviousTopic() {
        let en = MemoryText.welcomeBack(RestoredMemory(previousTopic: "track_order", pendingOrder: nil), spanish: false)
        #expect(en == "Welcome back! Last time we talked about tracking your order. Would you like to continue with that, or start fresh?")
        let es = MemoryText.welcomeBack(RestoredMemory(previousTopic: "store_hours", pendingOrder: nil), spanish: true)
        #expect(es.contains("La última vez hablamos de store hours."))
    }
}
