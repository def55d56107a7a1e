public import FoundationEssentials
import SwitchboardPostgres
import SwitchboardStore

/// A live passage waiting for its vector.
public struct PendingChunk: Sendable, Hashable {
    public let id: UUID
    public let text: String
}

/// A live, embedded passage, as the dense search holds it.
public struct ChunkVector: Sendable {
    public let chunkID: UUID
    public let articleID: UUID
    public let externalID: String
    public let title: String
    public let text: String
    public let vector: [Float]
}

/// How far a tenant's help center is embedded.
public struct KBStatus: Sendable, Codable, Hashable {
    public var articles = 0, deletedArticles = 0
    /// Live passages: with a vector, and waiting for one.
    public var chunks = 0, embedded = 0, pending = 0
    /// Live passages per embedding model id.
    public var models: [String: Int] = [:]
    public var generation: Int64 = 0
}

extension KBStore {
    /// Live passages without a vector from `model` (none yet, or another model's), oldest first.
    public func pendingChunks(tenant: UUID, model: String, limit: Int) async throws -> [PendingChunk] {
        try await db.withTenant(tenant) { conn in
            try conn.query(
                """
                SELECT id, text FROM kb_chunks
                WHERE retired_at IS NULL AND (embedding IS NULL OR embedding_model IS DISTINCT FROM $1)
                ORDER BY created_at, position LIMIT $2
                """, [.text(model), .int(Int64(limit))]
            ).map { PendingChunk(id: try $0.decode("id"), text: try $0.decode("text")) }
        }
    }

    /// Stores vectors for passages; a passage retired meanwhile or already embedded by `model` is left alone, so a
    /// re-run writes nothing twice. Returns how many were stored.
    @discardableResult
    public func storeChunkEmbeddings(tenant: UUID, _ vectors: [(UUID, [Float])], model: String) async throws -> Int {
        guard !vectors.isEmpty else { return 0 }
        return try await db.withTenant(tenant) { conn in
            var stored = 0
            for (id, vector) in vectors {
                stored += try conn.execute(
                    """
                    UPDATE kb_chunks SET embedding = $2, embedding_model = $3, embedded_at = now()
                    WHERE id = $1 AND retired_at IS NULL AND (embedding IS NULL OR embedding_model IS DISTINCT FROM $3)
                    """, [.uuid(id), .bytea(EmbeddingCodec.encode(vector)), .text(model)])
            }
            if stored > 0 { try Self.bumpGeneration(tenant, conn) }
            return stored
        }
    }

    /// Every live passage embedded by `model`, with the tenant's generation they belong to.
    public func chunkVectors(tenant: UUID, model: String) async throws -> (generation: Int64, chunks: [ChunkVector]) {
        try await db.withTenant(tenant) { conn in
            let generation: Int64 =
                try KBStore.generation(tenant, conn)
            let rows = try conn.query(
                """
                SELECT c.id, c.article_id, a.external_id, a.title, c.text, c.embedding
                FROM kb_chunks c JOIN kb_articles a ON a.id = c.article_id
                WHERE c.retired_at IS NULL AND c.embedding_model = $1 AND a.deleted_at IS NULL AND a.active
                ORDER BY c.article_id, c.position
                """, [.text(model)])
            let chunks = try rows.compactMap { row -> ChunkVector? in
                guard let vector = EmbeddingCodec.decode(try row.decode("embedding", as: PostgresBytes.self).bytes) else { return nil }
                return ChunkVector(
                    chunkID: try row.decode("id"), articleID: try row.decode("article_id"), externalID: try row.decode("external_id"),
                    title: try row.decode("title"), text: try row.decode("text"), vector: vector)
            }
            return (generation, chunks)
        }
    }

    public func status(tenant: UUID) async throws -> KBStatus {
        try await db.withTenant(tenant) { conn in
            var status = KBStatus()
            if let row = try conn.query(
                "SELECT count(*) FILTER (WHERE deleted_at IS NULL) AS live, count(*) FILTER (WHERE deleted_at IS NOT NULL) AS deleted FROM kb_articles"
            ).first {
                status.articles = try row.decode("live")
                status.deletedArticles = try row.decode("deleted")
            }
            for row in try conn.query(
                "SELECT embedding_model, count(*) AS n FROM kb_chunks WHERE retired_at IS NULL GROUP BY embedding_model")
            {
                let n: Int = try row.decode("n")
                status.chunks += n
                if let model = try row.decodeIfPresent("embedding_model", as: String.self) {
                    status.models[model] = n
                    status.embedded += n
                } else {
                    status.pending += n
                }
            }
            status.generation =
                try KBStore.generation(tenant, conn)
            return status
        }
    }
}
