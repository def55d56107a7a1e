public import FoundationEssentials
public import SwitchboardEmbedding
public import SwitchboardPostgres
import SwitchboardStore
import Synchronization

/// A catalogue product that may be what a customer named, with the evidence for it.
public struct ProductCandidate: Sendable, Codable, Hashable {
    public let productID: UUID
    public let sku: String
    public let name: String
    public let unit: String
    public let pack: String?
    /// Price of one selling unit as stored (two decimals), nil when the catalogue has none.
    public let price: String?
    /// The customer's words equal the name or an alias (folded, singular or plural).
    public let exact: Bool
    /// pg_trgm: the best of `similarity` to the name and `word_similarity` within the aliases, 0…1.
    public let trigram: Double
    /// Cosine of the sentence vectors of the words and the product (name and aliases), when both are embedded.
    public let embedding: Double?
    /// The combined score the candidates are ranked by, 0…1.
    public let score: Double
}

/// Finds catalogue products for a customer's words ("tomates roma", "2 cajas de cebolla" → its product words): exact
/// name or alias first, then trigram similarity, then semantic similarity. The Swift API order extraction calls.
public final class CatalogMatcher: Sendable {
    public let db: PostgresClient
    public let embedder: EmbeddingService?
    private struct Vectors {
        let generation: Int64
        let byProduct: [UUID: [Float]]
    }
    private let cache = Mutex<[UUID: Vectors]>([:])

    public init(db: PostgresClient, embedder: EmbeddingService?) {
        (self.db, self.embedder) = (db, embedder)
    }

    public func match(tenant: UUID, words: String, k: Int = 5) async throws -> [ProductCandidate] {
        let folded = TextFolding.fold(words)
        let key = Self.singular(folded)
        struct Row {
            let id: UUID
            let sku, name, unit: String
            let pack, price: String?
            let names: [String]
            let trigram: Double
        }
        let (generation, rows) = try await db.withTenant(tenant) { conn -> (Int64, [Row]) in
            let generation: Int64 =
                try KBStore.generation(tenant, conn)
            let rows = try conn.query(
                """
                SELECT id, sku, name, unit, pack, price::text AS price, search_name, search_aliases,
                    greatest(similarity(search_name, $1), word_similarity($1, search_aliases)) AS trigram
                FROM products WHERE active ORDER BY trigram DESC, sku LIMIT 200
                """, [.text(folded)]
            ).map { row in
                Row(
                    id: try row.decode("id"), sku: try row.decode("sku"), name: try row.decode("name"), unit: try row.decode("unit"),
                    pack: try row.decodeIfPresent("pack"), price: try row.decodeIfPresent("price"),
                    names: [try row.decode("search_name")] + (try row.decode("search_aliases", as: String.self)).components(separatedBy: " | "),
                    trigram: try row.decode("trigram"))
            }
            return (generation, rows)
        }
        var similarity: [UUID: Double] = [:]
        if let embedder, !folded.isEmpty {
            let vectors = try await productVectors(tenant: tenant, generation: generation)
            if !vectors.isEmpty {
                let query = try await embedder.embed(words)
                for (id, vector) in vectors { similarity[id] = Double(zip(query, vector).reduce(0) { $0 + $1.0 * $1.1 }) }
            }
        }
        return rows.map { row in
            let exact = row.names.contains { !$0.isEmpty && Self.singular($0) == key }
            let semantic = similarity[row.id]
            let score = exact ? 1.0 : min(0.99, 0.55 * row.trigram + 0.45 * max(0, semantic ?? row.trigram))
            return ProductCandidate(
                productID: row.id, sku: row.sku, name: row.name, unit: row.unit, pack: row.pack, price: row.price, exact: exact, trigram: row.trigram,
                embedding: semantic, score: score)
        }.sorted { $0.score != $1.score ? $0.score > $1.score : $0.sku < $1.sku }.prefix(k).map { $0 }
    }

    private func productVectors(tenant: UUID, generation: Int64) async throws -> [UUID: [Float]] {
        if let cached = cache.withLock({ $0[tenant] }), cached.generation == generation { return cached.byProduct }
        let byProduct = try await db.withTenant(tenant) { conn in
            var vectors: [UUID: [Float]] = [:]
            for row in try conn.query("SELECT id, embedding FROM products WHERE active AND embedding_model = $1", [.text(SentenceEncoder.modelID)]) {
                if let v = EmbeddingCodec.decode(try row.decode("embedding", as: PostgresBytes.self).bytes) { vectors[try row.decode("id")] = v }
            }
            return vectors
        }
        cache.withLock { $0[tenant] = Vectors(generation: generation, byProduct: byProduct) }
        return byProduct
    }

    /// Each word reduced to a stem shared by its singular and plural: a final "s", then a final "e", removed
    /// ("tomates" and "tomate" → "tomat", "limones" and "limón" → "limon", "eggs" → "egg"). Both sides of a
    /// comparison go through it, so it need not be a real word.
    static func singular(_ folded: String) -> String {
        folded.split(separator: " ").map { word -> String in
            var w = Substring(word)
            if w.count > 3, w.hasSuffix("s"), !w.hasSuffix("ss") { w = w.dropLast() }
            if w.count > 4, w.hasSuffix("e") { w = w.dropLast() }
            return String(w)
        }.joined(separator: " ")
    }
}
