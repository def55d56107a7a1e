import Foundation
import Jobs
import SwitchboardConversations
import SwitchboardPostgres
import SwitchboardQueue
import SwitchboardStore
import Testing

/// Conversation memory end to end: the context decide-turn keeps, its expiry with the key facts and a pending order kept
/// on the customer, the returning customer's welcome back, summaries, forgotten questions and raw-payload retention.
@Suite("Conversation memory", .serialized, .timeLimit(.minutes(6)))
struct ConversationMemoryTests {
    @Test func anIdleContextExpiresKeepsItsFactsAndTheNextTurnPicksUpThePendingOrder() async throws {
        var settings = PipelineWorld.fastSettings
        settings.contextIdle = .seconds(2)
        let world = try await PipelineWorld.make("expiry", settings: settings)
        let server = FakeMessagingServer()
        let phone = PipelineWorld.phone()
        try await server.run { port in
            try await world.withWorker(messagingPort: port) {
                try await world.customerWrites("5 kg de tomate roma y 2 sacos de cebolla morada", from: phone, name: "Ana Pérez")
                let first = try await world.decidedTurns(1, of: phone)
                let old = first.conversation.id
                let turn = try #require(first.turns.first)
                #expect(turn.decision == "reply" && turn.reason == "order_confirmation")
                let orderID = try #require(turn.order?.id)
                let context = try #require(try await world.db.withTenant(world.tenant) { try ContextStore.load(conversation: old, conn: $0) })
                #expect(context.currentTopic == "place_order")
                #expect(context.pendingAction == PendingAction(kind: PendingAction.orderDraft, orderID: orderID, lines: 2))
                #expect(context.keyFacts.name == "Ana Pérez" && context.keyFacts.usualProducts.count == 2)
                let due = try #require(context.expiresAt)
                #expect(abs(due.timeIntervalSince(context.lastActivityAt) - 2) < 0.01)

                // Not due yet: a tick changes nothing.
                if due.timeIntervalSinceNow > 0.5 {
                    let early = try await ContextExpiry(db: world.db).run()
                    #expect(try await status(of: old, world) == "open", "expired early: \(early)")
                }
                // The next tick after it is due closes it.
                try await Task.sleep(for: .seconds(max(0, due.timeIntervalSinceNow) + 0.5))
                try await world.run(ExpireContexts())
                #expect(try await status(of: old, world) == "closed")
                let cleared = try #require(try await world.db.withTenant(world.tenant) { try ContextStore.load(conversation: old, conn: $0) })
                #expect(cleared.currentTopic == nil && cleared.pendingAction == nil && cleared.expiresAt == nil && cleared.expiredAt != nil)
                // Kept from this very conversation: not offered back to it.
                #expect(try await world.db.withTenant(world.tenant) { try ContextStore.customer(of: old, conn: $0).memory } == nil)
                let customer = try await world.db.withTenant(world.tenant) { conn in
                    try conn.query(
                        """
                        SELECT previous_topic, previous_pending_action->>'order_id' AS pending, previous_conversation_id,
                               key_facts->>'name' AS name, jsonb_array_length(key_facts->'usual_products') AS products
                        FROM customers c JOIN conversations v ON v.customer_id = c.id WHERE v.id = $1
                        """, [.uuid(old)])[0]
                }
                #expect(try customer.decode("previous_topic", as: String.self) == "place_order")
                #expect(UUID(uuidString: try customer.decode("pending", as: String.self)) == orderID)
                #expect(try customer.decode("previous_conversation_id", as: UUID.self) == old)
                #expect(try customer.decode("name", as: String.self) == "Ana Pérez" && customer.decode("products", as: Int.self) == 2)

                // The customer comes back: a new conversation, the draft order moves to it, the reply welcomes them back
                // to the previous topic and offers the order again. The new context gets a long idle time first: an
                // expiry run elsewhere in the database (the chaos test's schedulers run in parallel) would otherwise
                // close it two seconds after its turn, before the checks below read it.
                var longer = PipelineWorld.fastSettings
                longer.contextIdle = .seconds(1800)
                try await PipelineSettingsStore(db: world.db).save(longer, tenant: world.tenant)
                try await world.customerWrites("hola", from: phone, name: "Ana Pérez")
                var again = try await world.decidedTurns(1, of: phone)
                try await expectEventually(timeout: .seconds(20)) {
                    again = try #require(try await world.timeline(of: phone))
                    return again.conversation.id != old && again.turns.first?.reply?.sendState == "sent"
                }
                let welcome = try #require(again.turns.first)
                let text = try #require(welcome.reply?.text)
                print("welcome back: \(text.replacingOccurrences(of: "\n", with: " | "))")
                #expect(welcome.decision == "reply" && welcome.reason == "small_talk")
                #expect(text.contains("¡Hola de nuevo!") && text.contains("pedido") && text.contains("5 kg Roma tomatoes"))
                let current = again.conversation.id
                let restored = try #require(
                    try await world.db.withTenant(world.tenant) { try ContextStore.load(conversation: current, conn: $0) })
                #expect(restored.restoredFrom == old && restored.pendingAction?.orderID == orderID && restored.currentTopic == "place_order")
                let moved = try await world.db.withTenant(world.tenant) { conn in
                    try conn.query("SELECT conversation_id, status FROM orders WHERE id = $1", [.uuid(orderID)])[0]
                }
                #expect(try moved.decode("conversation_id", as: UUID.self) == current)
                #expect(try moved.decode("status", as: String.self) == "PENDING" || moved.decode("status", as: String.self) == "REVIEW")
            }
        }
        try await world.shutdown()
    }

    @Test func aSummaryCoversTheFirstTwentyOneMessagesOnceAndAReRunChangesNothing() async throws {
        // Bursts that never close during the test: only ingest and the summary run.
        let world = try await PipelineWorld.make("summary", settings: PipelineWorld.bursts(window: .seconds(600), maxWait: .seconds(3600)))
        let server = FakeMessagingServer()
        let phone = PipelineWorld.phone()
        let lines = (1...21).map { n in
            switch n {
            case 5: "necesito 12 cajas de tomate roma para el lunes"
            case 9: "la entrega es en la calle Mayor 14, Bilbao"
            case 14: "¿cuánto cuesta el kilo de cebolla morada?"
            default: "mensaje número \(n)"
            }
        }
        try await server.run { port in
            try await world.withWorker(messagingPort: port) {
                for text in lines.prefix(20) { try await world.customerWrites(text, from: phone) }
                try await expectEventually(timeout: .seconds(30)) { try await messageCount(phone, world) == 20 }
                try await Task.sleep(for: .seconds(1))
                let conversation = try #require(try await world.conversation(of: phone))
                #expect(try await summaries(conversation, world).isEmpty, "no summary at 20 messages")

                try await world.customerWrites(lines[20], from: phone)
                try await expectEventually(timeout: .seconds(30)) { try await !summaries(conversation, world).isEmpty }
                let first = try await summaries(conversation, world)
                #expect(first.count == 1)
                let summary = try #require(first.first)
                print("summary 1–21: \(summary.summary.replacingOccurrences(of: "\n", with: " | "))")
                #expect(summary.firstSeq == 1 && summary.lastSeq == 21 && summary.messageCount == 21 && summary.method == "extractive")
                #expect(summary.summary.contains("12 cajas de tomate roma") && summary.summary.contains("Bilbao"))
                #expect(!summary.summary.contains("mensaje número 3"))

                // The same job again, and the sweep: nothing changes.
                try await world.run(SummarizeConversation(tenant: world.tenant, conversation: conversation, through: 21))
                try await world.run(SummarizeSweep())
                try await Task.sleep(for: .seconds(1))
                #expect(try await summaries(conversation, world) == first)
                let through = try await world.db.withTenant(world.tenant) { try SummaryStore.progress(conversation: conversation, conn: $0) }
                #expect(through?.summarizedThrough == 21)
            }
        }
        try await world.shutdown()
    }

    @Test func aForgottenQuestionIsAnsweredAndThenNothingIsLeftWaiting() async throws {
        let world = try await PipelineWorld.make("forgot")
        let server = FakeMessagingServer()
        let phone = PipelineWorld.phone()
        try await server.run { port in
            try await world.withWorker(messagingPort: port) {
                try await world.customerWrites("how can I get a copy of my invoice?", from: phone)
                var timeline = try await world.decidedTurns(1, of: phone)
                try await expectEventually(timeout: .seconds(20)) {
                    timeline = try #require(try await world.timeline(of: phone))
                    return timeline.turns.first?.reply?.sendState == "sent"
                }
                #expect(timeline.turns.first?.reason == "answered")
                // The provider later reports the reply failed: the customer never got it.
                let reply = try #require(timeline.turns.first?.reply?.messageID)
                try await world.db.withTenant(world.tenant) { conn in
                    try conn.execute("UPDATE messages SET send_state = 'failed' WHERE id = $1", [.uuid(reply)])
                }
                try await world.customerWrites("hello? did you forget my question?", from: phone)
                timeline = try await world.decidedTurns(2, of: phone)
                let forgot = try #require(timeline.turns.last)
                let text = try #require(forgot.reply?.text ?? forgot.draft)
                print("forgotten: \(text.replacingOccurrences(of: "\n", with: " | "))")
                #expect(forgot.decision == "reply" && forgot.reason == "forgotten_question")
                #expect(text.contains("Sorry for the wait") && text.contains("how can I get a copy of my invoice?"))
                #expect(text.count > 120, "the answer itself follows the apology")

                try await world.customerWrites("did you forget my question?", from: phone)
                timeline = try await world.decidedTurns(3, of: phone)
                let none = try #require(timeline.turns.last)
                #expect(none.reason == "forgotten_question")
                #expect(none.reply?.text?.contains("I don't see a question of yours still waiting") == true)
            }
        }
        try await world.shutdown()
    }

    @Test func rawPayloadsPastTheTenantsRetentionAreDeletedAndTheTextStays() async throws {
        var settings = PipelineWorld.fastSettings
        settings.payloadRetentionDays = 30
        let world = try await PipelineWorld.make("retention", settings: settings)
        let (conversation, _) = try await world.understoodTurn("first message", phone: PipelineWorld.phone())
        let (tenant, channel) = (world.tenant, world.channel)
        let ids = try await world.db.withTenant(tenant) { conn -> [UUID] in
            try [100, 10].map { days -> UUID in
                try conn.query(
                    """
                    INSERT INTO messages (tenant_id, channel_id, conversation_id, provider_message_id, direction, type, text, raw, created_at)
                    VALUES ($1, $2, $3, $4, 'inbound', 'text', $5, '{"secret": "payload"}', now() - make_interval(days => $6::int)) RETURNING id
                    """,
                    [.uuid(tenant), .uuid(channel), .uuid(conversation), .text("wamid.\(UUID())"), .text("kept text \(days)"), .int(Int64(days))]
                )[0].decode("id")
            }
        }
        let report = try await PayloadRetention(db: world.db, batchSize: 1).run()
        #expect(report.messages >= 1 && report.batches >= 2)
        let rows = try await world.db.withTenant(tenant) { conn in
            try ids.map { id in
                let row = try conn.query("SELECT raw IS NULL AS purged, text FROM messages WHERE id = $1", [.uuid(id)])[0]
                return (try row.decode("purged", as: Bool.self), try row.decode("text", as: String.self))
            }
        }
        #expect(rows[0] == (true, "kept text 100"))
        #expect(rows[1] == (false, "kept text 10"))
        try await world.shutdown()
    }

    func status(of conversation: UUID, _ world: PipelineWorld) async throws -> String {
        try await world.db.withTenant(world.tenant) { conn in
            try conn.query("SELECT status FROM conversations WHERE id = $1", [.uuid(conversation)])[0].decode("status")
        }
    }

    func messageCount(_ phone: String, _ world: PipelineWorld) async throws -> Int {
        guard let conversation = try await world.conversation(of: phone) else { return 0 }
        return try await world.db.withTenant(world.tenant) { conn in
            try conn.query("SELECT count(*)::int AS n FROM messages WHERE conversation_id = $1", [.uuid(conversation)])[0].decode("n")
        }
    }

    func summaries(_ conversation: UUID, _ world: PipelineWorld) async throws -> [ConversationSummary] {
        try await world.db.withTenant(world.tenant) { try SummaryStore.summaries(conversation: conversation, conn: $0) }
    }
}
