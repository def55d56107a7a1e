public import FoundationEssentials
public import SwitchboardEmbedding
public import SwitchboardKnowledge
public import SwitchboardPostgres
import SwitchboardStore
import Synchronization

/// Order extraction against a tenant's catalogue in PostgreSQL. The catalogue is read once per knowledge
/// generation into a ``CatalogIndex`` (names, aliases, typo correction by edit distance); each turn then costs one
/// round trip to check the generation. Words the index cannot place go to ``CatalogMatcher`` — pg_trgm similarity
/// over the GIN-indexed names and aliases, combined with the embedded sentence model — and become a line only on
/// a strong match; otherwise they are reported unmatched with its best candidates as suggestions.
public final class OrderExtractor: Sendable {
    public let db: PostgresClient
    public let embedder: EmbeddingService?
    /// A combined trigram/embedding score at which an unplaced phrase becomes a line (flagged for review).
    public let similarAcceptance: Double
    private let cache = Mutex<[UUID: (generation: Int64, index: CatalogIndex)]>([:])
    /// Kept for its cache of product vectors per tenant.
    private let matcher: CatalogMatcher

    public init(db: PostgresClient, embedder: EmbeddingService?, similarAcceptance: Double = 0.8) {
        (self.db, self.embedder, self.similarAcceptance) = (db, embedder, similarAcceptance)
        self.matcher = CatalogMatcher(db: db, embedder: embedder)
    }

    /// The tenant's active catalogue as an index, rebuilt when an import or embedding changed the knowledge.
    public func catalog(tenant: UUID) async throws -> CatalogIndex {
        let cached = cache.withLock { $0[tenant] }
        let (generation, products) = try await db.withTenant(tenant) { conn -> (Int64, [CatalogProduct]?) in
            let generation = try KBStore.generation(tenant, conn)
            if let cached, cached.generation == generation { return (generation, nil) }
            let products = try conn.query(
                "SELECT id, sku, name, aliases, unit, pack, price::text AS price, category FROM products WHERE active ORDER BY sku"
            ).map { row in
                CatalogProduct(
                    id: try row.decode("id"), sku: try row.decode("sku"), name: try row.decode("name"), aliases: try row.decode("aliases"),
                    unit: try row.decode("unit"), pack: try row.decodeIfPresent("pack"),
                    priceCents: CatalogProduct.cents(try row.decodeIfPresent("price", as: String.self)), category: try row.decodeIfPresent("category")
                )
            }
            return (generation, products)
        }
        if let products {
            let index = CatalogIndex(products: products)
            cache.withLock { $0[tenant] = (generation, index) }
            return index
        }
        return cached!.index
    }

    /// Extracts the order in a turn's messages, amending `existing` lines when a draft is open.
    public func extract(tenant: UUID, messages: [String], amending existing: [OrderLine] = []) async throws -> OrderExtraction {
        let index = try await catalog(tenant: tenant)
        var extraction = OrderParser(index: index).extract(messages, amending: existing)
        guard !extraction.unmatched.isEmpty else { return extraction }
        var lines = extraction.lines
        var unmatched: [UnmatchedItem] = []
        for var item in extraction.unmatched {
            let candidates = try await matcher.match(tenant: tenant, words: item.text, k: 3)
            if let best = candidates.first, best.score >= similarAcceptance, let product = index.products.first(where: { $0.sku == best.sku }) {
                let unit = item.unit ?? product.unit
                lines.append(
                    OrderLine(
                        sku: product.sku, productID: product.id, name: product.name, text: item.text, quantity: item.quantity ?? 1, unit: unit,
                        unitPriceCents: OrderParser.unitPrice(product, unit: unit), confidence: min(0.69, best.score * 0.75), match: .similar))
                continue
            }
            item.suggestions = candidates.filter { $0.score >= 0.3 }.map(\.sku)
            unmatched.append(item)
        }
        extraction = OrderExtraction(isOrder: extraction.isOrder, lines: lines, unmatched: unmatched)
        return extraction
    }
}
