import Foundation
import SwitchboardEmbedding
import SwitchboardKnowledge
import SwitchboardPostgres
import SwitchboardStore
import Testing

/// Help-center and catalogue imports against real PostgreSQL: idempotent, versioned, all-or-nothing, tenant-isolated.
@Suite("Tenant knowledge: import, embed, search", .serialized, .timeLimit(.minutes(4)))
struct KnowledgeImportTests {
    /// Counts of the tenant's rows and its generation, to see that an import wrote nothing.
    func snapshot(_ db: PostgresClient, _ tenant: UUID) async throws -> [String] {
        try await db.withTenant(tenant) { conn in
            try conn.query(
                """
                SELECT a.external_id || ' v' || a.version || ' ' || a.updated_at::text || ' chunks ' ||
                    (SELECT count(*) FROM kb_chunks c WHERE c.article_id = a.id AND c.retired_at IS NULL) AS line
                FROM kb_articles a ORDER BY a.external_id
                """
            ).map { try $0.decode("line") } + [
                "generation \(try conn.query("SELECT generation FROM kb_state")[0].decode("generation", as: Int64.self))"
            ]
        }
    }

    @Test func reImportingUnchangedWritesNothingAndAChangedArticleAloneIsReChunkedAndReEmbedded() async throws {
        let db = PostgresClient(url: try TestEnvironment.databaseURL(), maxConnections: 2)
        let embedder = try sharedEmbedder.get()
        let tenant = try await makeKnowledgeTenant(db, "kb import")
        let store = KBStore(db: db)
        let folder = try writeHelpCenter(sampleHelpCenter)
        defer { try? FileManager.default.removeItem(at: folder) }

        let first = try await store.importEntries(try KBSourceReader.read(path: folder.path), tenant: tenant)
        #expect(first.added == 3 && first.changed == 0 && first.chunksAdded >= 4)
        let embedded = try await KnowledgeEmbedder(store: store, embedder: embedder).embedPending(tenant: tenant)
        #expect(embedded == first.chunksAdded)
        #expect(try await store.status(tenant: tenant).pending == 0)

        // The same files again: nothing written, not even the generation.
        let before = try await snapshot(db, tenant)
        let again = try await store.importEntries(try KBSourceReader.read(path: folder.path), tenant: tenant)
        #expect(again == ImportReport(unchanged: 3))
        #expect(try await snapshot(db, tenant) == before)

        // One article edited: only it gets a new version; its old passages are retired, its new ones pending.
        var edited = sampleHelpCenter
        edited["002-delivery.md"] = edited["002-delivery.md"]!.replacingOccurrences(of: "Monday to Saturday", with: "Monday to Friday")
        try edited["002-delivery.md"]!.write(to: folder.appendingPathComponent("002-delivery.md"), atomically: true, encoding: .utf8)
        let changed = try await store.importEntries(try KBSourceReader.read(path: folder.path), tenant: tenant)
        #expect(changed.added == 0 && changed.changed == 1 && changed.unchanged == 2)
        let after = try await snapshot(db, tenant)
        #expect(after[0] == before[0] && after[2] == before[2], "the unchanged articles were not touched")
        #expect(after[1].hasPrefix("kb-002 v2"))
        let pending = try await store.pendingChunks(tenant: tenant, model: SentenceEncoder.modelID, limit: 100)
        #expect(pending.count == changed.chunksAdded && pending.allSatisfy { $0.text.hasPrefix("Delivery times and windows") })
        #expect(try await KnowledgeEmbedder(store: store, embedder: embedder).embedPending(tenant: tenant) == changed.chunksAdded)
        // A second embedding run finds nothing to do.
        #expect(try await KnowledgeEmbedder(store: store, embedder: embedder).embedPending(tenant: tenant) == 0)

        // Search finds the edited text; --prune soft-deletes what the source dropped.
        let results = try await Retriever(store: store, embedder: embedder).search(
            tenant: tenant, query: "can I still cancel my order tonight?", k: 3)
        #expect(results.first?.externalID == "kb-001")
        try FileManager.default.removeItem(at: folder.appendingPathComponent("003-invoices.md"))
        let pruned = try await store.importEntries(try KBSourceReader.read(path: folder.path), tenant: tenant, prune: true)
        #expect(pruned.removed == 1)
        let afterPrune = try await Retriever(store: store, embedder: embedder).search(tenant: tenant, query: "where are my invoices", k: 3)
        #expect(!afterPrune.contains { $0.externalID == "kb-003" })
        try await db.shutdown()
    }

    @Test func aBadRowIsAClearErrorAndNothingIsImported() async throws {
        let db = PostgresClient(url: try TestEnvironment.databaseURL(), maxConnections: 2)
        let tenant = try await makeKnowledgeTenant(db, "kb bad row")
        let folder = try writeHelpCenter([
            "faq.csv": "id,title,content,priority\nq1,Opening hours,We open at six.,1\nq2,,No title here.,2\nq3,Fees,Zone fees apply.,3\n"
        ])
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect {
            try KBSourceReader.read(path: folder.path)
        } throws: { error in
            let text = "\(error)"
            return text.contains("faq.csv:3") && text.contains("(title)") && text.contains("nothing was imported")
        }
        #expect(try await KBStore(db: db).status(tenant: tenant).articles == 0)

        // The catalogue the same way: a bad price on line 4 stops the whole file.
        let csv =
            "sku,name,aliases,unit,pack,price,category\nTOM,Roma tomatoes,tomate roma,kg,,1.60,veg\nONI,White onions,cebolla,kg,,0.90,veg\nEGG,Eggs,huevos,dozen,,€3,eggs\n"
        #expect {
            try CatalogReader.parse(csv, path: "catalog.csv")
        } throws: { error in
            "\(error)".contains("catalog.csv:4 (price)")
        }
        let count: Int = try await db.withTenant(tenant) { try $0.query("SELECT count(*) AS n FROM products")[0].decode("n") }
        #expect(count == 0)
        try await db.shutdown()
    }

    @Test func aTenantsSearchNeverReturnsAnotherTenantsPassages() async throws {
        let db = PostgresClient(url: try TestEnvironment.databaseURL(), maxConnections: 2)
        let embedder = try sharedEmbedder.get()
        let (a, b) = (try await makeKnowledgeTenant(db, "kb tenant A"), try await makeKnowledgeTenant(db, "kb tenant B"))
        let store = KBStore(db: db)
        let secret = KBEntry(
            externalID: "b-only", title: "Wholesale secret price list", content: "Our secret discount code for cancelled orders is ZEBRA-42.")
        _ = try await store.importEntries([secret], tenant: b)
        let folder = try writeHelpCenter(sampleHelpCenter)
        defer { try? FileManager.default.removeItem(at: folder) }
        _ = try await store.importEntries(try KBSourceReader.read(path: folder.path), tenant: a)
        for tenant in [a, b] { try await KnowledgeEmbedder(store: store, embedder: embedder).embedPending(tenant: tenant) }
        let retriever = Retriever(store: store, embedder: embedder)
        for mode in RetrievalMode.allCases {
            let results = try await retriever.search(tenant: a, query: "secret discount code ZEBRA for cancelled orders", k: 10, mode: mode)
            #expect(!results.contains { $0.externalID == "b-only" || $0.chunkText.contains("ZEBRA") }, "mode \(mode.rawValue)")
        }
        #expect(try await retriever.search(tenant: b, query: "secret discount code", k: 1).first?.externalID == "b-only")
        try await db.shutdown()
    }

    @Test func catalogueReImportIsIdempotentAndMatchingFindsAliasesAndPlurals() async throws {
        let db = PostgresClient(url: try TestEnvironment.databaseURL(), maxConnections: 2)
        let embedder = try sharedEmbedder.get()
        let tenant = try await makeKnowledgeTenant(db, "catalog")
        let records = try CatalogReader.parse(sampleCatalogue, path: "catalog.csv")
        #expect(records.count == 8)
        let store = CatalogStore(db: db)
        let first = try await store.importProducts(records, tenant: tenant)
        #expect(first.added == 8)
        #expect(try await store.importProducts(records, tenant: tenant) == ImportReport(unchanged: 8))
        var changed = records
        changed[0].price = Decimal(string: "1.75")
        let second = try await store.importProducts(Array(changed.dropLast()), tenant: tenant, prune: true)
        #expect(second.changed == 1 && second.removed == 1 && second.unchanged == 6)
        #expect(try await store.embedPending(tenant: tenant, embedder: embedder) == 7)

        let matcher = CatalogMatcher(db: db, embedder: embedder)
        let roma = try await matcher.match(tenant: tenant, words: "tomates roma", k: 3)
        #expect(roma.first?.sku == "TOM-ROMA" && roma.first?.exact == true && roma.first?.price == "1.75")
        let fuzzy = try await matcher.match(tenant: tenant, words: "cebollas blancas", k: 3)
        #expect(fuzzy.first.map { $0.sku.hasPrefix("ONI") } == true, "\(fuzzy.map(\.sku))")
        try await db.shutdown()
    }
}

/// A distributor's catalogue in the layout of ../shared/eval/orders/catalog.csv, with near-duplicates on purpose.
let sampleCatalogue = """
    sku,name,aliases,unit,pack,price,category
    TOM-ROMA,Roma tomatoes,tomate roma|tomate saladet|plum tomato,kg,box=18kg,1.60,vegetables
    TOM-CHERRY,Cherry tomatoes,tomate cherry|tomate cereza,box,box=3kg,9.90,vegetables
    ONI-WHITE,White onions,cebolla|cebolla blanca|onion,kg,sack=20kg,0.95,vegetables
    ONI-RED,Red onions,cebolla morada|cebolla roja,kg,sack=20kg,1.20,vegetables
    LIME,Limes,limón|lima,kg,box=5kg,2.40,fruit
    LEMON,Lemons,limón amarillo|limón real,kg,box=5kg,2.10,fruit
    EGG-12,Eggs (dozen),huevo|huevos|egg|docena de huevos,dozen,,3.10,eggs-dairy
    OIL-OLIVE-1L,Olive oil 1 L,aceite de oliva|aceite,bottle,,6.80,oils-condiments

    """
