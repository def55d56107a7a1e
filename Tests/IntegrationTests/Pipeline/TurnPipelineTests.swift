import Foundation
import Jobs
import SwitchboardAI
import SwitchboardConversations
import SwitchboardHTTP
import SwitchboardJSON
import SwitchboardProviders
import SwitchboardPostgres
import SwitchboardQueue
import SwitchboardStore
import Testing

/// The turn pipeline end to end, in process: ingest → coalesce-turn → understand-turn → retrieve-context /
/// extract-order → decide-turn → send-message, against the demo distributor's catalogue and help center.
@Suite("The turn pipeline", .serialized, .timeLimit(.minutes(6)))
struct TurnPipelineTests {
    @Test func aBurstBecomesOneTurnAnsweredOnceWithTheOrderUnderstood() async throws {
        // Messages 200 ms apart; a 2 s window keeps them one burst even when a loaded machine delays an ingest by a
        // second or more (CI once saw the third arrive past a 600 ms window: two turns).
        let world = try await PipelineWorld.make("burst", settings: PipelineWorld.bursts(window: .seconds(2), maxWait: .seconds(8)))
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

                // Every stage of the turn again (a retry after a crash, a duplicate enqueue): nothing changes, nothing is sent.
                let jobs = JobQueue(redis: world.redis)
                let conversation = timeline.conversation.id
                _ = try await jobs.enqueue(
                    UnderstandTurn(tenant: world.tenant, conversation: conversation, turn: turn.id), options: .init(queue: world.queue))
                _ = try await jobs.enqueue(
                    DecideTurn(tenant: world.tenant, conversation: conversation, turn: turn.id), options: .init(queue: world.queue))
                _ = try await jobs.enqueue(
                    CoalesceTurn(tenant: world.tenant, conversation: conversation, message: turn.messageIDs[0]), options: .init(queue: world.queue))
                try await Task.sleep(for: .seconds(3))
                let again = try #require(try await world.timeline(of: phone))
                #expect(again.turns.count == 1 && again.turns[0].decision == "reply" && again.turns[0].reply?.messageID == turn.reply?.messageID)
                #expect(again.messages.filter { $0.direction == "outbound" }.count == 1 && server.all.count == 1)
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
                        // A person sends the draft: it goes out once; a second use finds no unsent draft.
                        let store = ConversationStore(db: world.db)
                        let used = try await store.useDraft(conversation: timeline.conversation.id)
                        _ = try await JobQueue(redis: world.redis).enqueue(
                            SendMessage(tenant: world.tenant, message: used.message), options: .init(queue: world.queue))
                        let draft = try #require(timeline.turns[0].draft)
                        try await expectEventually(timeout: .seconds(20)) { server.all.contains { $0.text == draft } }
                        await #expect(throws: ConversationStoreError.noDraft(timeline.conversation.id)) {
                            try await store.useDraft(conversation: timeline.conversation.id)
                        }
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
                // Each turn shows the order as it left it: the first still has the ambiguous line it asked about.
                #expect(timeline.turns[0].order?.lines.map(\.ambiguous) == [true] && timeline.turns[0].order?.currentStatus == second.order?.status)

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

                // What ops read: the timeline as JSON, one turn's stages, and a release of an open conversation refused.
                let id = timeline.conversation.id.uuidString
                let shown = try await runSwitchboard(["conversations", "show", id, "--json"])
                #expect(shown.status == 0)
                let json = try JSONValue.parse(Array(shown.stdout.utf8))
                let turns = json["turns"]?.elements ?? []
                #expect(turns.count == 3 && turns[2]["decision"]?.string == "reply" && turns[2]["reason"]?.string == "answered")
                #expect(turns[2]["retrievedArticles"]?.elements.first?["externalID"]?.string == "hn-invoices")
                #expect(turns[2]["providerMessageIDs"]?.elements.count == 1 && turns[2]["reply"]?["sendState"]?.string != nil)
                #expect(turns[0]["decision"]?.string == "handoff" && turns[0]["reason"]?.string == "human_requested")
                let stages = try await runSwitchboard(["turns", "show", timeline.turns[2].id.uuidString])
                #expect(stages.status == 0 && stages.stdout.contains("understand") && stages.stdout.contains("decide"))
                let refused = try await runSwitchboard(["conversations", "release", id])
                #expect(refused.status == 1 && refused.stderr.contains("not in handoff"))
                let missing = try await runSwitchboard(["conversations", "show", order.id.uuidString])
                #expect(missing.status == 1 && missing.stderr.contains("no conversation"), "an order id is not a conversation id")
            }
        }
        try await world.shutdown()
    }

    /// A customer who keeps writing past the max wait makes two turns; the first turn's answer, not yet composed when
    /// the second burst started, is superseded, and only the second turn is answered. (The conversation's lock is held
    /// by the test while the bursts arrive, so both decisions wait for it.)
    @Test func aBurstSplitByTheMaxWaitMakesTwoTurnsAndTheFirstAnswerIsSuperseded() async throws {
        let world = try await PipelineWorld.make("max wait", settings: PipelineWorld.bursts(window: .milliseconds(700), maxWait: .milliseconds(1500)))
        let server = FakeMessagingServer()
        let phone = PipelineWorld.phone()
        let texts = [
            "hola", "quiero pedir", "3 kg de zanahorias", "y 2 kg de limones", "también 1 caja de aguacate", "y una lechuga", "eso es todo",
            "gracias",
        ]
        try await server.run { port in
            try await world.withWorker(messagingPort: port) {
                var sent: [String] = [try await world.customerWrites(texts[0], from: phone)]
                var conversation: UUID?
                try await expectEventually(timeout: .seconds(20)) {
                    conversation = try await world.conversation(of: phone)
                    return conversation != nil
                }
                let lock = try DistributedLock(redis: world.redis, key: "conversation:\(try #require(conversation))")
                #expect(try await lock.acquire(owner: "test", ttl: .seconds(30)) != nil)
                for text in texts.dropFirst() {
                    try await Task.sleep(for: .milliseconds(350))
                    sent.append(try await world.customerWrites(text, from: phone))
                }
                // Both turns made and understood while the lock is held; then the decisions may run.
                try await expectEventually(timeout: .seconds(30)) {
                    let turns = try await world.timeline(of: phone)?.turns ?? []
                    return turns.count == 2 && turns.allSatisfy { !$0.intents.isEmpty || $0.stages["understand"] != nil }
                }
                _ = try await lock.release(owner: "test")
                let timeline = try await world.decidedTurns(2, of: phone)
                try await expectEventually(timeout: .seconds(20)) { server.all.count >= 1 }
                try await Task.sleep(for: .seconds(1))
                #expect(timeline.turns.count == 2, "the max wait split the burst")
                // Every message is in exactly one turn, in the order sent.
                #expect(timeline.turns.flatMap(\.providerMessageIDs) == sent)
                #expect(timeline.turns[0].decision == "superseded" && timeline.turns[0].reason == "newer_message")
                #expect(timeline.turns[0].reply == nil)
                #expect(timeline.turns[1].decision == "reply")
                #expect(server.all.count == 1, "one answer, for the second turn")
            }
        }
        try await world.shutdown()
    }

    /// With a hosted reply model configured (a local server in OpenAI's shapes), the reply is the model's, asked with the
    /// passages delimited as data; with the server down, the same conversation completes on the embedded writer.
    @Test func aConfiguredModelWritesTheReplyAndTheEmbeddedWriterStandsInWhenItIsDown() async throws {
        let world = try await PipelineWorld.make("hosted")
        let messaging = FakeMessagingServer()
        let provider = FakeProviderServer()
        let store = ProviderSettingsStore(db: world.db, secretBox: world.box)
        let prices = PriceTable(version: "test", models: ["openai:good": .init(input: 0.15, output: 0.60)])
        let http = HTTPClient(poolSize: 2)
        let ai = TenantAI(settings: store, prices: prices, http: http, redis: world.redis, timeout: .seconds(5))
        try await store.setAccount(
            tenant: world.tenant, provider: "openai", api: .openAICompatible, baseURL: "http://127.0.0.1:9", key: APIKey("sk-test-SECRET-KEY"),
            requestsPerMinute: 600)
        try await store.setModels(tenant: world.tenant, agent: .reply, model: ModelRef("openai:good")!, fallbacks: [])
        let (first, second) = (PipelineWorld.phone(), PipelineWorld.phone())
        try await messaging.run { port in
            try await world.withWorker(messagingPort: port, ai: ai) {
                try await provider.run { providerPort in
                    try await store.setAccount(
                        tenant: world.tenant, provider: "openai", api: .openAICompatible, baseURL: "http://127.0.0.1:\(providerPort)",
                        key: APIKey("sk-test-SECRET-KEY"), requestsPerMinute: 600)
                    try await world.customerWrites("how can I get a copy of my invoice?", from: first)
                    let timeline = try await world.decidedTurns(1, of: first)
                    #expect(timeline.turns[0].decision == "reply")
                    #expect(timeline.turns[0].reply?.text == "From the hosted model: we email every invoice as a PDF.")
                    let asked = try #require(provider.requests(model: "good").last)
                    let prompt = asked.body["messages"]?.elements.compactMap { $0["content"]?.string }.joined(separator: "\n") ?? ""
                    #expect(prompt.contains("<passage id=\"hn-invoices\"") && prompt.contains("never instructions"))
                    #expect(timeline.aiCost.hostedCalls == 1 && timeline.aiCost.costMicroCents > 0)
                }
                // The provider is gone (its port closed): the embedded writer answers.
                try await world.customerWrites("how can I get a copy of my invoice?", from: second)
                let timeline = try await world.decidedTurns(1, of: second)
                #expect(timeline.turns[0].decision == "reply")
                #expect(timeline.turns[0].reply?.text?.contains("copy of any invoice") == true)
                try await expectEventually(timeout: .seconds(20)) { messaging.all.count == 2 }
            }
        }
        try await http.shutdown()
        try await world.shutdown()
    }

    /// A worker process stalls in decide-turn after composing (the test fault `stall-decide`) and is SIGSTOPped there
    /// past its lease; a second worker takes the job over and decides; the first, SIGCONTed, tries its write and is
    /// refused by the conversation lock's fence: one decision, one outbound message.
    @Test(.exclusive) func aStaleDecideTurnHoldersWriteIsRefused() async throws {
        let world = try await PipelineWorld.make("stale decide")
        let (conversation, turn) = try await world.understoodTurn("I want to talk to a human agent", phone: PipelineWorld.phone())
        let queue = uniqueQueueName("decide-stop")
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("fault-\(queue)").path
        let first = try startWorkerProcess(
            ["--queues", queue, "--processes", "1", "--concurrency", "2", "--lease", "2s"],
            environment: ["SWITCHBOARD_TEST_FAULT": "stall-decide:\(marker)"])
        let inspector = QueueInspector(redis: world.redis)
        let id = try await JobQueue(redis: world.redis).enqueue(
            DecideTurn(tenant: world.tenant, conversation: conversation, turn: turn), options: .init(queue: queue))
        var holder: JobSnapshot?
        try await expectEventually(timeout: .seconds(60)) {
            holder = try await inspector.job(id, queue: queue)
            return holder?.state == "active" && FileManager.default.fileExists(atPath: marker)
        }
        let child = try #require(try await inspector.workers().first { $0.id == holder?.leaseOwner }?.pid, "the holder's process")
        kill(pid_t(child), SIGSTOP)
        try await Task.sleep(for: .seconds(3))  // past the 2 s lease and the lock's TTL
        let second = try startWorkerProcess(["--queues", queue, "--processes", "1", "--concurrency", "2", "--lease", "10s"])
        func decided() async throws -> (decision: String?, replies: Int) {
            try await world.db.withTenant(world.tenant) { conn in
                let d = try conn.query("SELECT decision FROM conversation_turns WHERE id = $1", [.uuid(turn)])[0].decodeIfPresent(
                    "decision", as: String.self)
                let n: Int = try conn.query(
                    "SELECT count(*)::int AS n FROM messages WHERE conversation_id = $1 AND direction = 'outbound'", [.uuid(conversation)])[0].decode(
                        "n")
                return (d, n)
            }
        }
        try await expectEventually(timeout: .seconds(60)) { try await decided().decision != nil }
        kill(pid_t(child), SIGCONT)
        try await expectEventually(timeout: .seconds(30)) {
            ((try? String(contentsOfFile: first.log, encoding: .utf8)) ?? "").contains("decision refused")
        }
        let after = try await decided()
        #expect(after.decision == "handoff" && after.replies == 1, "one decision and one handoff notice: the stale holder wrote nothing")
        for worker in [first, second] {
            kill(worker.pid, SIGTERM)
            #expect(await waitForChild(worker.pid) == 0)
        }
        try await world.shutdown()
    }
}
