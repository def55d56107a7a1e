import Foundation
import Jobs
import SwitchboardConversations
import SwitchboardPostgres
import SwitchboardQueue
import Testing

/// The turn pipeline end to end, in process: ingest → coalesce-turn → understand-turn → retrieve-context /
/// extract-order → decide-turn → send-message, against the demo distributor's catalogue and help center.
@Suite("The turn pipeline", .serialized, .timeLimit(.minutes(6)))
struct TurnPipelineTests {
    @Test func aBurstBecomesOneTurnAnsweredOnceWithTheOrderUnderstood() async throws {
        let world = try await PipelineWorld.make("burst")
        let server = FakeMessagingServer()
        let phone = PipelineWorld.phone()
        try await server.run { port in
            try await world.withWorker(messagingPort: port) {
                for text in ["hola", "necesito tomates", "5 kg de tomate roma y 2 sacos de cebolla morada"] {
                    try await world.customerWrites(text, from: phone)
                    try await Task.sleep(for: .milliseconds(200))
                }
                var timeline = try await world.decidedTurns(1, of: phone)
                try await expectEventually(timeout: .seconds(20)) {
                    timeline = try #require(try await world.timeline(of: phone))
                    return timeline.turns.first?.reply?.sendState == "sent"
                }
                #expect(timeline.turns.count == 1)
                let turn = try #require(timeline.turns.first)
                #expect(turn.messageIDs.count == 3 && turn.providerMessageIDs.count == 3)
                print("burst turn: \(turn.intents.map { "\($0.name) \($0.confidence)" }) → \(turn.decision ?? "-") \(turn.reason ?? "-")")
                print("order: \(String(describing: turn.order))")
                print("reply: \(turn.reply?.text?.replacingOccurrences(of: "\n", with: " | ") ?? "-")")
                #expect(turn.decision == "reply" && turn.reason == "order_confirmation")
                let order = try #require(turn.order)
                #expect(order.lines.contains { $0.sku == "HN-TOM-ROMA" && $0.quantity == 5 && $0.unit == "kg" })
                #expect(order.lines.contains { $0.sku == "HN-ONION-R" && $0.quantity == 2 })
                #expect(server.all.count == 1, "one reply for the burst")
            }
        }
        try await world.shutdown()
    }

    /// One conversation per rule, run side by side: each handoff reason, a low-confidence turn drafted and the second in
    /// a row handed off, a question answered from the help center.
    @Test func theDecisionRulesHandOffDraftAndAnswer() async throws {
        var settings = PipelineWorld.fastSettings
        settings.alwaysHuman = ["cancel_order"]
        let world = try await PipelineWorld.make("rules", settings: settings)
        let server = FakeMessagingServer()
        let cases: [(turns: [String], decisions: [String])] = [
            (["I want to talk to a real person please"], ["handoff human_requested"]),
            (["This is unacceptable. The lettuce arrived rotten and I am very angry, I want to make a complaint"], ["handoff complaint_negative"]),
            (["what is the capital of australia"], ["handoff out_of_scope"]),
            (["my card payment failed and I cannot pay for my order"], ["handoff payment_problem"]),
            (["I want to cancel my order"], ["handoff always_human_topic"]),
            (["¿cuándo llega mi pedido?", "¿hacen envíos a Bilbao?"], ["draft low_confidence", "handoff low_confidence_repeated"]),
            (["how can I get a copy of my invoice?"], ["reply answered"]),
        ]
        let phones = cases.map { _ in PipelineWorld.phone() }
        try await server.run { port in
            try await world.withWorker(messagingPort: port) {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (c, phone) in zip(cases, phones) {
                        group.addTask {
                            for (n, text) in c.turns.enumerated() {
                                try await world.customerWrites(text, from: phone)
                                _ = try await world.decidedTurns(n + 1, of: phone)
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                for (c, phone) in zip(cases, phones) {
                    let timeline = try #require(try await world.timeline(of: phone))
                    let got = timeline.turns.map { "\($0.decision ?? "-") \($0.reason ?? "-")" }
                    let intents = timeline.turns.map { $0.intents.map { "\($0.name) \($0.confidence)" } }
                    #expect(got == c.decisions, "\(c.turns) → \(got), intents \(intents)")
                    let handedOff = c.decisions.last?.hasPrefix("handoff") == true
                    #expect((timeline.conversation.status == "handoff") == handedOff)
                    if handedOff { #expect(timeline.conversation.handoffReason == c.decisions.last?.split(separator: " ").last.map(String.init)) }
                    if c.decisions.first == "draft low_confidence" {
                        #expect(timeline.turns[0].draft?.isEmpty == false && timeline.turns[0].reply == nil)
                    }
                    if c.decisions == ["reply answered"] {
                        #expect(timeline.turns[0].retrievedArticles.first?.externalID == "hn-invoices")
                        #expect(timeline.turns[0].reply?.text?.contains("copy of any invoice") == true, "the reply quotes the passage")
                    }
                }
            }
        }
        try await world.shutdown()
    }

    /// An ambiguous line is asked about; the customer's answer amends the same order. A handed-off conversation,
    /// released, is answered automatically again.
    @Test func anAmbiguousLineIsAskedAboutAndTheAnswerAmendsTheSameOrder() async throws {
        let world = try await PipelineWorld.make("ambiguous")
        let server = FakeMessagingServer()
        let (buyer, caller) = (PipelineWorld.phone(), PipelineWorld.phone())
        try await server.run { port in
            try await world.withWorker(messagingPort: port) {
                try await world.customerWrites("quiero 3 kg de tomates", from: buyer)
                var timeline = try await world.decidedTurns(1, of: buyer)
                let first = try #require(timeline.turns.first)
                #expect(first.decision == "reply" && first.reason == "order_confirmation")
                let order = try #require(first.order)
                #expect(order.lines.count == 1 && order.lines[0].ambiguous && order.lines[0].candidates.contains("HN-TOM-ROMA"))
                #expect(first.reply?.text?.contains("Roma tomatoes") == true, "the reply asks which tomatoes: \(first.reply?.text ?? "")")
                try await world.customerWrites("los roma", from: buyer)
                timeline = try await world.decidedTurns(2, of: buyer)
                let second = timeline.turns[1]
                #expect(second.order?.id == order.id, "the answer amends the same order")
                #expect(second.order?.lines.map { "\($0.sku ?? "?") \($0.quantity) \($0.unit ?? "-")" } == ["HN-TOM-ROMA 3.0 kg"])
                #expect(second.decision == "reply")

                // A person takes over, then releases the conversation: automation answers again.
                try await world.customerWrites("I want to talk to a human agent", from: caller)
                timeline = try await world.decidedTurns(1, of: caller)
                #expect(timeline.conversation.status == "handoff")
                try await world.customerWrites("how can I get a copy of my invoice?", from: caller)
                timeline = try await world.decidedTurns(2, of: caller)
                #expect(timeline.turns[1].decision == "draft" && timeline.turns[1].reason == "conversation_in_handoff")
                try await ConversationStore(db: world.db).release(id: timeline.conversation.id)
                try await world.customerWrites("how can I get a copy of my invoice?", from: caller)
                timeline = try await world.decidedTurns(3, of: caller)
                #expect(timeline.conversation.status == "open")
                #expect(timeline.turns[2].decision == "reply" && timeline.turns[2].reason == "answered")
            }
        }
        try await world.shutdown()
    }
}
