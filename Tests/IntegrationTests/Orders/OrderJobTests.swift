import Foundation
import Jobs
import Logging
import SwitchboardJSON
import SwitchboardKnowledge
import SwitchboardOrders
import SwitchboardPostgres
@testable import SwitchboardQueue
import SwitchboardRedis
import SwitchboardStore
import Synchronization
import Testing

/// A tenant with a small catalogue, one conversation, and an in-process worker running the pipeline's stages.
private struct OrderWorld {
    let db: PostgresClient
    let tenant: UUID
    let channel: UUID
    let conversation: UUID

    static let catalogue = """
        sku,name,aliases,unit,pack,price,category
        ROMA,Roma tomatoes,tomate roma|jitomate roma,kg,box=20kg,1.50,vegetables
        BEEF,Beef tomatoes,tomate bola,kg,box=15kg,2.00,vegetables
        ONION-W,White onions,cebolla blanca|cebolla|onion,kg,sack=20kg,0.90,vegetables
        CARROT,Carrots,zanahoria|carrot,kg,,0.80,vegetables
        HAMBURGER,Hamburger,burger,unit,,30.00,grill
        FRENCH_FRIES,French fries,fries|papas fritas,unit,,35.00,grill
        SODA,Soda,refresco|soda,unit,,10.00,beverages
        """

    static func make(_ label: String) async throws -> OrderWorld {
        try await SharedSchema.shared.ensureMigrated()
        let db = PostgresClient(url: try TestEnvironment.databaseURL(), maxConnections: 4)
        let seeded = try await RowLevelSecurityTests.seed(db, name: "\(label) \(UUID())")
        let channel: UUID = try await db.withTenant(seeded.tenant) { conn in
            try conn.query("SELECT channel_id FROM conversations WHERE id = $1", [.uuid(seeded.conversation)])[0].decode("channel_id")
        }
        let records = try CatalogReader.parse(catalogue, path: "test catalogue")
        _ = try await CatalogStore(db: db).importProducts(records, tenant: seeded.tenant)
        return OrderWorld(db: db, tenant: seeded.tenant, channel: channel, conversation: seeded.conversation)
    }

    /// Stores an inbound text message in the conversation, sent `second` seconds into the test.
    func message(_ text: String, second: Int) async throws -> UUID {
        try await db.withTenant(tenant) { [tenant, channel, conversation] conn in
            try conn.query(
                """
                INSERT INTO messages (tenant_id, channel_id, conversation_id, provider_message_id, direction, type, text, raw, sent_at)
                VALUES ($1, $2, $3, $4, 'inbound', 'text', $5, '{}', now() + make_interval(secs => $6)) RETURNING id
                """, [.uuid(tenant), .uuid(channel), .uuid(conversation), .text("wamid.\(UUID())"), .text(text), .int(Int64(second))]
            )[0].decode("id")
        }
    }

    func orders() async throws -> [StoredOrder] {
        try await db.withTenant(tenant) { [conversation] conn in
            try conn.query("SELECT id FROM orders WHERE conversation_id = $1 ORDER BY created_at", [.uuid(conversation)]).compactMap {
                try OrderStore.load(id: try $0.decode("id"), conn: conn)
            }
        }
    }
}

private func lines(_ order: StoredOrder) -> [String] {
    order.lines.map { "\($0.sku ?? "?") \($0.quantity == $0.quantity.rounded() ? String(Int($0.quantity)) : String($0.quantity)) \($0.unit ?? "-")" }
}

/// Runs `body` with a worker on a fresh queue that runs every pipeline stage; `runs` counts finished extract-order jobs.
private func withPipelineWorker(
    _ world: OrderWorld, _ body: (_ enqueue: @Sendable (any JobParameters) async throws -> Void, _ runs: @Sendable () -> Int) async throws -> Void
) async throws {
    let redis = try makeRedis()
    let queue = uniqueQueueName("orders")
    let counting = CountingMiddleware()
    let registry = JobRegistry()
    registry.add(counting)
    let pipeline = Pipeline(db: world.db, queue: JobQueue(redis: redis))
    pipeline.register(in: registry)
    let worker = QueueWorker(
        redis: redis, registry: registry, options: fastWorkerOptions(queue: queue, concurrency: 2), logger: Logger(label: "orders"))
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await worker.run() }
        try await body(
            { job in _ = try await pipeline.queue.enqueue(job, options: .init(queue: queue)) },
            { counting.counts.withLock { $0[ExtractOrder.jobName] ?? 0 } })
        worker.stop()
        try await group.waitForAll()
    }
    try await redis.shutdown()
}

@Suite("Order extraction: the extract-order job, drafts and the orders commands", .serialized, .timeLimit(.minutes(4)))
struct OrderJobTests {
    @Test func aTurnBecomesOneDraftThatAReRunLeavesAloneAndACorrectionAmends() async throws {
        let world = try await OrderWorld.make("order job")
        let first = try await world.message("5 kg de tomate roma y 2 sacos de cebolla", second: 0)
        let turn = ExtractOrder(tenant: world.tenant, conversation: world.conversation, messages: [first])
        try await withPipelineWorker(world) { enqueue, runs in
            try await enqueue(turn)
            try await expectEventually(timeout: .seconds(20)) { runs() == 1 }
            var orders = try await world.orders()
            #expect(orders.count == 1)
            let draft = try #require(orders.first)
            #expect(lines(draft) == ["ROMA 5 kg", "ONION-W 2 sack"])
            #expect(draft.status == .pending && !draft.requiresReview && draft.version == 1 && draft.source == "text")
            // 5 kg at 1.50; onions are priced by the kg and packed in 20 kg sacks, so a sack is 18.00.
            #expect(draft.lines.map(\.totalCents) == [750, 3600] && draft.totalCents == 4350)

            // The same turn again (a retry after a crash, a duplicate enqueue): nothing changes.
            try await enqueue(turn)
            try await expectEventually(timeout: .seconds(20)) { runs() == 2 }
            orders = try await world.orders()
            #expect(orders.count == 1 && orders[0].version == 1 && lines(orders[0]) == lines(draft) && orders[0].sources.count == 1)

            // A correction in a later turn amends the open draft.
            let correction = try await world.message("no mejor 8", second: 10)
            try await enqueue(ExtractOrder(tenant: world.tenant, conversation: world.conversation, messages: [correction]))
            try await expectEventually(timeout: .seconds(20)) { runs() == 3 }
            orders = try await world.orders()
            #expect(orders.count == 1 && orders[0].id == draft.id)
            // "no mejor 8" changes the line written last; its unit carries over.
            #expect(lines(orders[0]) == ["ROMA 5 kg", "ONION-W 8 sack"])
            #expect(orders[0].version == 2 && orders[0].sources.map(\.messageIDs) == [[first], [correction]])

            // A turn that is not an order changes nothing.
            let thanks = try await world.message("gracias!", second: 20)
            try await enqueue(ExtractOrder(tenant: world.tenant, conversation: world.conversation, messages: [thanks]))
            try await expectEventually(timeout: .seconds(20)) { runs() == 4 }
            #expect(try await world.orders().map(\.version) == [2])

            // Once confirmed, the next order starts a new draft.
            let store = OrderStore(db: world.db)
            let confirmed = try await store.confirm(id: draft.id, by: "test")
            #expect(confirmed.status == .confirmed && confirmed.decidedBy == "test")
            await #expect(throws: OrderStoreError.decided(draft.id, .confirmed)) { try await store.reject(id: draft.id, by: "test") }
            let next = try await world.message("2 kg zanahoria", second: 30)
            try await enqueue(ExtractOrder(tenant: world.tenant, conversation: world.conversation, messages: [next]))
            try await expectEventually(timeout: .seconds(20)) { runs() == 5 }
            orders = try await world.orders()
            #expect(orders.count == 2 && lines(orders[1]) == ["CARROT 2 kg"] && orders[1].status == .pending)
        }
        try await world.db.shutdown()
    }

    @Test func aWhatsAppCatalogueOrderBecomesADraftWithTheExactLines() async throws {
        let world = try await OrderWorld.make("catalogue order")
        let fixture = TestEnvironment.packageRoot.appendingPathComponent("Tests/Fixtures/webhooks/wa_order_from_catalog.json")
        let body = try JSONValue.parse(Array(try Data(contentsOf: fixture)))
        let value: JSONValue? = body["entry"]?.elements.first?["changes"]?.elements.first?["value"]
        let event = try #require(value?["messages"]?.elements.first)
        let contact: JSONValue? = value?["contacts"]?.elements.first
        try await withPipelineWorker(world) { enqueue, runs in
            // The message goes in as the webhook receiver enqueues it; ingest-message stores it.
            try await enqueue(
                IngestMessage(
                    tenant: world.tenant, channel: world.channel, provider: .whatsapp, event: event, contact: contact,
                    receivedAtMs: Int64(Date().timeIntervalSince1970 * 1000)))
            var stored: (id: UUID, conversation: UUID)?
            try await expectEventually(timeout: .seconds(20)) {
                stored = try await world.db.withTenant(world.tenant) { conn in
                    try conn.query("SELECT id, conversation_id FROM messages WHERE provider_message_id = 'wamid.xyzxyz' AND type = 'order'").first.map
                    {
                        (try $0.decode("id"), try $0.decode("conversation_id"))
                    }
                }
                return stored != nil
            }
            let message = try #require(stored)
            try await enqueue(ExtractOrder(tenant: world.tenant, conversation: message.conversation, messages: [message.id]))
            try await expectEventually(timeout: .seconds(20)) { runs() == 1 }
            let order = try #require(
                try await world.db.withTenant(world.tenant) { conn in
                    try OrderStore.openDraft(conversation: message.conversation, conn: conn)
                })
            #expect(order.source == "catalog" && order.currency == "ILS")
            #expect(order.status == .pending && !order.requiresReview && order.isValid && order.confidence == 1 && order.warnings.isEmpty)
            #expect(lines(order) == ["HAMBURGER 3 unit", "FRENCH_FRIES 2 unit", "SODA 2 unit"])
            #expect(order.lines.map(\.unitPriceCents) == [3000, 3500, 1000])
            #expect(order.lines.allSatisfy { $0.productID != nil && $0.match == .catalogueOrder })
            #expect(order.totalCents == 90_00 + 70_00 + 20_00)
        }
        try await world.db.shutdown()
    }

    @Test func aPersonResolvesAnAmbiguousLineAndConfirmsFromTheCommandLine() async throws {
        let world = try await OrderWorld.make("order review")
        let message = try await world.message("10 kg of tomatoes and 3 kg carrots", second: 0)
        try await withPipelineWorker(world) { enqueue, runs in
            try await enqueue(ExtractOrder(tenant: world.tenant, conversation: world.conversation, messages: [message]))
            try await expectEventually(timeout: .seconds(20)) { runs() == 1 }
        }
        let draft = try #require(try await world.orders().first)
        #expect(draft.status == .review && draft.requiresReview)
        #expect(draft.lines[0].isAmbiguous && Set(draft.lines[0].candidates) == ["ROMA", "BEEF"])
        let id = draft.id.uuidString

        // An ambiguous line cannot be confirmed; the error says what to do. Exit 1.
        let refused = try await runSwitchboard(["orders", "confirm", id])
        #expect(refused.status == 1 && refused.stderr.contains("ambiguous line 1") && refused.stderr.contains("set-line"))
        let unknown = try await runSwitchboard(["orders", "set-line", id, "1", "--sku", "NOPE"])
        #expect(unknown.status == 1 && unknown.stderr.contains("NOPE"))
        let fixed = try await runSwitchboard(["orders", "set-line", id, "1", "--sku", "ROMA", "--json"])
        #expect(fixed.status == 0, "\(fixed.stderr)")
        let after = try JSONDecoder.iso8601.decode(StoredOrder.self, from: Data(fixed.stdout.utf8))
        #expect(after.status == .pending && lines(after) == ["ROMA 10 kg", "CARROT 3 kg"] && after.lines[0].match == .person)
        #expect(after.totalCents == 1500 + 240)

        let listed = try await runSwitchboard(["orders", "list", "--tenant", world.tenant.uuidString, "--status", "pending", "--json"])
        #expect(listed.status == 0)
        #expect(try JSONDecoder.iso8601.decode([StoredOrder].self, from: Data(listed.stdout.utf8)).map(\.id) == [draft.id])
        let confirmed = try await runSwitchboard(["orders", "confirm", id, "--by", "ana"])
        #expect(confirmed.status == 0 && confirmed.stdout.contains("CONFIRMED"))
        let shown = try await runSwitchboard(["orders", "show", id])
        #expect(shown.status == 0 && shown.stdout.contains("CONFIRMED") && shown.stdout.contains("by ana") && shown.stdout.contains("Roma tomatoes"))
        let missing = try await runSwitchboard(["orders", "show", UUID().uuidString])
        #expect(missing.status == 1 && missing.stderr.contains("no order"))
        try await world.db.shutdown()
    }
}

extension JSONDecoder {
    static var iso8601: JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return d
    }
}
