public import FoundationEssentials
public import SwitchboardEmbedding
public import SwitchboardPostgres
import SwitchboardStore

/// A tenant's catalogue in PostgreSQL, under its row-level security scope.
public struct CatalogStore: Sendable {
    public let db: PostgresClient

    public init(db: PostgresClient) { self.db = db }

    /// Imports `records` in one transaction: new SKUs are added, changed ones updated with their version bumped and
    /// their embedding cleared (re-embedded by `kb-embed`), unchanged ones not written. With `prune`, active products
    /// the file no longer lists are set inactive (soft delete, version bumped).
    public func importProducts(_ records: [ProductRecord], tenant: UUID, prune: Bool = false) async throws -> ImportReport {
        try await db.withTenant(tenant) { conn in
            var stored: [String: (id: UUID, fingerprint: [String])] = [:]
            for row in try conn.query("SELECT id, sku, name, aliases, unit, pack, price::text AS price, category, active FROM products") {
                let fingerprint = [
                    try row.decode("name"), (try row.decode("aliases", as: [String].self)).joined(separator: "|"), try row.decode("unit"),
                    try row.decodeIfPresent("pack", as: String.self) ?? "", try row.decodeIfPresent("price", as: String.self) ?? "",
                    try row.decodeIfPresent("category", as: String.self) ?? "", "\(try row.decode("active", as: Bool.self))",
                ]
                stored[try row.decode("sku")] = (try row.decode("id"), fingerprint)
            }
            var report = ImportReport()
            for record in records {
                let fingerprint = [
                    record.name, record.aliases.joined(separator: "|"), record.unit, record.pack ?? "", record.priceText ?? "", record.category ?? "",
                    "\(record.active)",
                ]
                let values: [PostgresValue] = [
                    .text(record.sku), .text(record.name), .textArray(record.aliases), .text(record.unit), record.pack.map { .text($0) } ?? .null,
                    record.priceText.map { .text($0) } ?? .null, record.category.map { .text($0) } ?? .null, .bool(record.active),
                    .text(TextFolding.fold(record.name)), .text(record.aliases.map(TextFolding.fold).joined(separator: " | ")),
                ]
                if let existing = stored[record.sku] {
                    if existing.fingerprint == fingerprint {
                        report.unchanged += 1
                        continue
                    }
                    try conn.execute(
                        """
                        UPDATE products SET name = $2, aliases = $3, unit = $4, pack = $5, price = $6::numeric, category = $7, active = $8,
                            search_name = $9, search_aliases = $10, version = version + 1, embedding = NULL, embedding_model = NULL,
                            updated_at = now()
                        WHERE tenant_id = $11 AND sku = $1
                        """, values + [.uuid(tenant)])
                    report.changed += 1
                } else {
                    try conn.execute(
                        """
                        INSERT INTO products (sku, name, aliases, unit, pack, price, category, active, search_name, search_aliases, tenant_id)
                        VALUES ($1, $2, $3, $4, $5, $6::numeric, $7, $8, $9, $10, $11)
                        """, values + [.uuid(tenant)])
                    report.added += 1
                }
            }
            if prune {
                let listed = Set(records.map(\.sku))
                for (sku, existing) in stored where !listed.contains(sku) && existing.fingerprint.last == "true" {
                    try conn.execute(
                        "UPDATE products SET active = false, version = version + 1, updated_at = now() WHERE id = $1", [.uuid(existing.id)])
                    report.removed += 1
                }
            }
            if report.wroteAnything { try KBStore.bumpGeneration(tenant, conn) }
            return report
        }
    }

    /// The text a product is embedded as: its name and every alias.
    static func embeddingText(name: String, aliases: [String]) -> String { ([name] + aliases).joined(separator: "; ") }

    /// Embeds active products without a vector from the current model; returns how many were stored.
    @discardableResult
    public func embedPending(tenant: UUID, embedder: EmbeddingService, batchSize: Int = 32) async throws -> Int {
        var done = 0
        while true {
            try Task.checkCancellation()
            let batch = try await db.withTenant(tenant) { conn in
                try conn.query(
                    """
                    SELECT id, name, aliases FROM products
                    WHERE active AND (embedding IS NULL OR embedding_model IS DISTINCT FROM $1) ORDER BY sku LIMIT $2
                    """, [.text(SentenceEncoder.modelID), .int(Int64(batchSize))]
                ).map {
                    (id: try $0.decode("id", as: UUID.self), text: Self.embeddingText(name: try $0.decode("name"), aliases: try $0.decode("aliases")))
                }
            }
            if batch.isEmpty { return done }
            let vectors = try await embedder.embed(batch.map(\.text))
            let stored = try await db.withTenant(tenant) { conn in
                var stored = 0
                for (item, vector) in zip(batch, vectors) {
                    stored += try conn.execute(
                        """
                        UPDATE products SET embedding = $2, embedding_model = $3
                        WHERE id = $1 AND (embedding IS NULL OR embedding_model IS DISTINCT FROM $3)
                        """, [.uuid(item.id), .bytea(EmbeddingCodec.encode(vector)), .text(SentenceEncoder.modelID)])
                }
                if stored > 0 { try KBStore.bumpGeneration(tenant, conn) }
                return stored
            }
            done += stored
            if stored == 0 { return done }
        }
    }
}
