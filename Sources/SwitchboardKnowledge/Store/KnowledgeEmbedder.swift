public import FoundationEssentials
public import SwitchboardEmbedding

/// Embeds what a tenant's imports left without vectors, in batches: the work of the `kb-embed` job and of
/// `switchboard kb embed`. Idempotent: a passage already embedded by the current model is never embedded again,
/// and a batch stored twice (a retry after a crash) writes nothing the second time.
public struct KnowledgeEmbedder: Sendable {
    public let store: KBStore
    public let embedder: EmbeddingService
    public var batchSize = 32

    public init(store: KBStore, embedder: EmbeddingService) {
        (self.store, self.embedder) = (store, embedder)
    }

    /// Embeds every pending passage of `tenant`; `progress(done, remainingAtStart)` after each batch.
    /// Returns how many passages were stored.
    @discardableResult
    public func embedPending(tenant: UUID, progress: @Sendable (Int, Int) -> Void = { _, _ in }) async throws -> Int {
        let total = try await store.status(tenant: tenant).pending
        var done = 0
        while true {
            try Task.checkCancellation()
            let batch = try await store.pendingChunks(tenant: tenant, model: SentenceEncoder.modelID, limit: batchSize)
            if batch.isEmpty { break }
            let vectors = try await embedder.embed(batch.map(\.text))
            let stored = try await store.storeChunkEmbeddings(tenant: tenant, Array(zip(batch.map(\.id), vectors)), model: SentenceEncoder.modelID)
            // Nothing stored means another embedder got there first: the next read sees fewer pending passages.
            done += max(stored, 0)
            progress(done, max(total, done))
            if stored == 0 && batch.count < batchSize { break }
        }
        return done
    }
}
