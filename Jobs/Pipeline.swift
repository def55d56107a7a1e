public import FoundationEssentials
public import SwitchboardPostgres
public import SwitchboardQueue
public import SwitchboardEmbedding
public import SwitchboardOrders
public import SwitchboardAI
public import SwitchboardHTTP
public import SwitchboardConversations
public import SwitchboardUnderstanding
public import SwitchboardKnowledge

/// The one place the pipeline's jobs are wired: it owns what the stages need (PostgreSQL, the producer queue, the
/// clock; later the providers and models), registers every stage in a worker's registry, and is where the list of
/// job types comes from. The executable builds one per worker process.
///
/// Adding a stage: write its file (parameters + a ``PipelineStage``), then add its type to ``stages``.
public struct Pipeline: Sendable {
    /// Every stage, in the order a turn meets them. The only list: job names and types are derived from it.
    public static let stages: [any PipelineStage.Type] = [
        IngestMessageJob.self,
        CoalesceTurnStage.self,
        UnderstandTurnStage.self,
        RetrieveContextStage.self,
        ExtractOrderStage.self,
        DecideTurnStage.self,
        SendMessageStage.self,
        SummarizeConversationStage.self,
        SummarizeSweepStage.self,
        ExpireContextsStage.self,
        PurgePayloadsStage.self,
        MessageStatusJob.self,
        KnowledgeEmbedStage.self,
        TrainIntentsStage.self,
        ProbeModelStage.self,  // ops and tests: a tenant's models through the AI path (ProbeModelJob.swift)
        FencedNoteStage.self,  // built-in, for tests and ops (DiagnosticStages.swift)
    ]

    public let db: PostgresClient
    /// For stages that enqueue outside their own completion (most use ``JobContext/enqueueOnSuccess(_:options:)``).
    public let queue: JobQueue
    /// Now, as the stages read it (a test may move it).
    public let clock: @Sendable () -> Date
    /// The embedded sentence model on its own threads; nil in processes that do not run the AI stages.
    public let embedder: EmbeddingService?
    /// The base intent examples (CSV) a tenant's model is trained on with the tenant's own, and the out-of-scope
    /// queries that calibrate its threshold; nil where no stage trains.
    public let intentTrainingData: String?
    public let intentOutOfScopeData: String?
    /// Order extraction, with its per-tenant catalogue cache.
    public let orders: OrderExtractor
    /// Tenants' hosted models (keys, budgets, usage); nil in a worker without SWITCHBOARD_SECRET_KEY, where the AI
    /// stages use the embedded models only.
    public let ai: TenantAI?
    /// How replies go out (provider endpoints, the wait before resending an uncertain send, channel secrets' key).
    public let outbound: OutboundSettings
    /// Outbound HTTP for the stages that call providers directly (sends).
    public let http: HTTPClient
    /// Tenants' pipeline knobs (burst window, confidence threshold, always-human intents), cached briefly.
    public let settings: PipelineSettingsStore
    /// Each tenant's intent model (its own, else the base one); nil in a worker without the base model.
    public let intentModels: IntentModelCache?
    /// Help-center retrieval; nil without the embedded model.
    public let retriever: Retriever?
    /// When set, the stages enqueue their successors on this queue instead of each type's own (tests run the whole
    /// chain on a queue of their own; a small deployment may run everything on one queue).
    public var successorQueue: String? = nil
    /// How long a burst waits, at most, for messages the webhook receiver accepted and ingest has not stored yet
    /// (``IntakeMarks``): longer than any burst's max wait, because such a message was sent inside the burst and is late
    /// only on our side (a worker died, a server restarted). Marks older than this are stale.
    public var intakeWait: Duration = .seconds(120)
    /// For tests (`SWITCHBOARD_TEST_FAULT`): a point where a stage stalls or the process dies once.
    public var testFault: TestFault? = nil

    /// Options for a stage's successor: the type's own, on ``successorQueue`` when one is set.
    func successorOptions(_ options: JobOptions = JobOptions()) -> JobOptions {
        var o = options
        if let successorQueue { o.queue = successorQueue }
        return o
    }

    public init(
        db: PostgresClient, queue: JobQueue, embedder: EmbeddingService? = nil, intentTrainingData: String? = nil,
        intentOutOfScopeData: String? = nil, intentModel: IntentModel? = nil, ai: TenantAI? = nil, outbound: OutboundSettings = OutboundSettings(),
        http: HTTPClient? = nil, questionPool: QuestionPool? = nil, clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.db = db
        self.queue = queue
        self.embedder = embedder
        self.intentTrainingData = intentTrainingData
        self.intentOutOfScopeData = intentOutOfScopeData
        self.orders = OrderExtractor(db: db, embedder: embedder)
        self.ai = ai
        self.outbound = outbound
        self.http = http ?? Pipeline.defaultHTTP
        self.clock = clock
        self.settings = PipelineSettingsStore(db: db)
        self.intentModels = intentModel.map { IntentModelCache(store: IntentModelStore(db: db), base: $0) }
        self.retriever = embedder.map { Retriever(store: KBStore(db: db), embedder: $0, pool: questionPool) }
    }

    /// The HTTP client of pipelines built without one: one per process, started when first used.
    static let defaultHTTP = HTTPClient(poolSize: 4)

    /// Registers a handler for every stage in `registry`.
    public func register(in registry: JobRegistry) {
        for stage in Self.stages { register(stage, in: registry) }
    }

    /// Registers one stage (``register(in:)`` does this for every stage of ``stages``; a test registers its own).
    public func register<S: PipelineStage>(_ stage: S.Type, in registry: JobRegistry) {
        let handler = S(self)
        registry.register(S.Parameters.self) { parameters, context in try await handler.run(parameters, context: context) }
    }

    /// The stages' parameter types.
    public static var jobTypes: [any JobParameters.Type] { stages.map { $0.parametersType } }

    /// The stages' job names, as ``register(in:)`` registers them.
    public static var jobNames: Set<String> { Set(jobTypes.map { $0.jobName }) }
}

/// One stage of the pipeline: a job type's handler, made once per process from the ``Pipeline``'s dependencies.
public protocol PipelineStage: Sendable {
    associatedtype Parameters: JobParameters
    init(_ pipeline: Pipeline)
    /// Runs one job. Must be idempotent: a run may repeat after a crash (at-least-once delivery).
    func run(_ parameters: Parameters, context: JobContext) async throws
}

extension PipelineStage {
    static var parametersType: any JobParameters.Type { Parameters.self }
}
