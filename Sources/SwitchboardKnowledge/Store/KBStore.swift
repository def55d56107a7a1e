public import FoundationEssentials
public import SwitchboardPostgres
import SwitchboardJSON
import SwitchboardStore

/// What an import changed: a help center's entries or a catalogue's products.
public struct ImportReport: Sendable, Codable, Hashable {
    /// New to the tenant, changed (stored as a new version), left alone.
    public var added = 0, changed = 0, unchanged = 0
    /// Soft-deleted (entries) or set inactive (products) because the source no longer lists them (`--prune`).
    public var removed = 0
    /// Help-center passages written and retired.
    public var chunksAdded = 0, chunksRetired = 0

    public var wroteAnything: Bool { added + changed + removed > 0 }

    public init(added: Int = 0, changed: Int = 0, unchanged: Int = 0, removed: Int = 0, chunksAdded: Int = 0, chunksRetired: Int = 0) {
        (self.added, self.changed, self.unchanged, self.removed, self.chunksAdded, self.chunksRetired) =
            (added, changed, unchanged, removed, chunksAdded, chunksRetired)
    }
}

/// A tenant's help center in PostgreSQL: versioned entries, their passages, and the passages' embeddings.
/// Every method runs under the tenant's row-level security scope.
public struct KBStore: Sendable {
    public let db: PostgresClient
    public let chunker: KBChunker

    public init(db: PostgresClient, chunker: KBChunker = KBChunker()) {
        self.db = db
        self.chunker = chunker
    }

    /// Imports `entries` in one transaction: new ones are added, changed ones get a new version whose passages
    /// replace the old ones (retired, not deleted), unchanged ones are not written at all. With `prune`, stored
    /// entries the source no longer has are soft-deleted and their passages retired.
    public func importEntries(_ entries: [KBEntry], tenant: UUID, prune: Bool = false) async throws -> ImportReport {
        let chunker = self.chunker
        return try await db.withTenant(tenant) { conn in
            var stored: [String: (id: UUID, hash: String, deleted: Bool)] = [:]
            for row in try conn.query("SELECT id, external_id, content_hash, deleted_at IS NOT NULL AS deleted FROM kb_articles") {
                stored[try row.decode("external_id")] = (try row.decode("id"), try row.decode("content_hash"), try row.decode("deleted"))
            }
            var report = ImportReport()
            for entry in entries {
                let hash = entry.contentHash
                let fields: [PostgresValue] = [
                    .text(entry.externalID), entry.slug.map { .text($0) } ?? .null, .text(entry.type), .text(entry.title),
                    .text(TextFolding.fold(entry.title)), .text(entry.content), .jsonb(Self.metadataJSON(entry.metadata)),
                    .textArray(entry.keywords), entry.category.map { .text($0) } ?? .null, .int(Int64(entry.priority)), .bool(entry.active),
                    .text(entry.language), .text(hash),
                ]
                let articleID: UUID
                let version: Int
                if let existing = stored[entry.externalID] {
                    if existing.hash == hash && !existing.deleted {
                        report.unchanged += 1
                        continue
                    }
                    let row = try conn.query(
                        """
                        UPDATE kb_articles SET slug = $3, type = $4, title = $5, search_title = $6, content = $7, metadata = $8::jsonb,
                            keywords = $9, category = $10, priority = $11, active = $12, language = $13::regconfig, content_hash = $14,
                            version = version + 1, deleted_at = NULL, updated_at = now()
                        WHERE id = $1 AND external_id = $2 RETURNING version
                        """, [.uuid(existing.id)] + fields)
                    articleID = existing.id
                    version = try row.first?.decode("version") ?? 1
                    report.chunksRetired += try Self.retireChunks(of: articleID, conn)
                    report.changed += 1
                } else {
                    let row = try conn.query(
                        """
                        INSERT INTO kb_articles (tenant_id, external_id, slug, type, title, search_title, content, metadata, keywords,
                            category, priority, active, language, content_hash)
                        VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, $12, $13::regconfig, $14) RETURNING id, version
                        """, [.uuid(tenant)] + fields)
                    guard let inserted = row.first else { throw PostgresError(.decoding, "INSERT … RETURNING gave no row") }
                    articleID = try inserted.decode("id")
                    version = try inserted.decode("version")
                    report.added += 1
                }
                for (position, text) in chunker.chunks(title: entry.title, keywords: entry.keywords, markdown: entry.content).enumerated() {
                    try conn.execute(
                        """
                        INSERT INTO kb_chunks (tenant_id, article_id, article_version, position, text, language)
                        VALUES ($1, $2, $3, $4, $5, $6::regconfig)
                        """, [.uuid(tenant), .uuid(articleID), .int(Int64(version)), .int(Int64(position)), .text(text), .text(entry.language)])
                    report.chunksAdded += 1
                }
            }
            if prune {
                let present = Set(entries.map(\.externalID))
                for (externalID, existing) in stored where !present.contains(externalID) && !existing.deleted {
                    try conn.execute(
                        "UPDATE kb_articles SET deleted_at = now(), version = version + 1, updated_at = now() WHERE id = $1", [.uuid(existing.id)])
                    report.chunksRetired += try Self.retireChunks(of: existing.id, conn)
                    report.removed += 1
                }
            }
            if report.wroteAnything { try Self.bumpGeneration(tenant, conn) }
            return report
        }
    }

    private static func retireChunks(of article: UUID, _ conn: PostgresConnection) throws -> Int {
        try conn.execute("UPDATE kb_chunks SET retired_at = now() WHERE article_id = $1 AND retired_at IS NULL", [.uuid(article)])
    }

    static func bumpGeneration(_ tenant: UUID, _ conn: PostgresConnection) throws {
        try conn.execute(
            """
            INSERT INTO kb_state (tenant_id, generation) VALUES ($1, 1)
            ON CONFLICT (tenant_id) DO UPDATE SET generation = kb_state.generation + 1
            """, [.uuid(tenant)])
    }

    private static func metadataJSON(_ metadata: [String: String]) -> String {
        String(decoding: JSONValue.object(metadata.mapValues { .string($0) }).serialized(), as: UTF8.self)
    }

    /// The tenant's knowledge generation (0 before the first import), read inside a caller's transaction: what cached
    /// vectors are checked against.
    public static func generation(_ tenant: UUID, _ conn: PostgresConnection) throws -> Int64 {
        try conn.query("SELECT generation FROM kb_state WHERE tenant_id = $1", [.uuid(tenant)]).first?.decode("generation") ?? 0
    }
}
