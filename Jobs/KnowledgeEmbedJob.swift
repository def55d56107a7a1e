public import FoundationEssentials
public import Logging
public import SwitchboardQueue
import SwitchboardKnowledge

/// `kb-embed`: embeds a tenant's help-center passages (and catalogue products) that have no vector from the current
/// model. Enqueued by every import, unique per tenant while queued, run under a per-tenant lock; idempotent (a
/// passage already embedded is skipped, a repeated batch writes nothing).
public struct KnowledgeEmbed: JobParameters, JobLogMetadata {
    public static let jobName = PipelineJobName.knowledgeEmbed.rawValue
    public static var queue: String { "knowledge" }
    /// A large help center takes minutes on one thread (about 30 ms a passage); a run that stops early leaves the rest
    /// pending for the retry.
    public static var timeout: Duration { .seconds(30 * 60) }

    public let tenant: UUID

    public init(tenant: UUID) { self.tenant = tenant }

    public var lockKey: String? { "kb-embed:\(tenant)" }
    public var logMetadata: Logger.Metadata { ["tenant": "\(tenant)"] }

    /// The options every enqueue uses: one waiting job per tenant however many imports ran meanwhile.
    public var enqueueOptions: JobOptions {
        var options = JobOptions()
        options.unique = UniqueOptions(key: "kb-embed:\(tenant)", mode: .whileQueued)
        return options
    }
}

struct KnowledgeEmbedStage: PipelineStage {
    let pipeline: Pipeline
    init(_ pipeline: Pipeline) { self.pipeline = pipeline }

    func run(_ p: KnowledgeEmbed, context: JobContext) async throws {
        guard let embedder = pipeline.embedder else {
            throw QueueError(.invalidOptions, "this worker has no embedded model loaded; start it with SWITCHBOARD_MODEL_DIR set")
        }
        let knowledge = KnowledgeEmbedder(store: KBStore(db: pipeline.db), embedder: embedder)
        let passages = try await knowledge.embedPending(tenant: p.tenant)
        let products = try await CatalogStore(db: pipeline.db).embedPending(tenant: p.tenant, embedder: embedder)
        context.logger.info("knowledge embedded", metadata: ["kb.passages": "\(passages)", "catalog.products": "\(products)"])
    }
}
