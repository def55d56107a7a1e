public import FoundationEssentials
public import Logging
public import SwitchboardQueue
import SwitchboardEmbedding
import SwitchboardUnderstanding

/// `train-intents`: retrains a tenant's intent model on the base examples plus the tenant's own (`intent_examples`),
/// by the same recipe as `switchboard train intents`, and stores it for that tenant. Unique per tenant while queued,
/// one run per tenant at a time; idempotent (a re-run trains the same model from the same examples and overwrites it).
public struct TrainIntents: JobParameters, JobLogMetadata {
    public static let jobName = PipelineJobName.trainIntents.rawValue
    public static var queue: String { "knowledge" }
    /// Embedding ~4,000 examples and six fits take a few minutes on one thread.
    public static var timeout: Duration { .seconds(30 * 60) }

    public let tenant: UUID

    public init(tenant: UUID) { self.tenant = tenant }

    public var lockKey: String? { "train-intents:\(tenant)" }
    public var logMetadata: Logger.Metadata { ["tenant": "\(tenant)"] }

    public var enqueueOptions: JobOptions {
        var options = JobOptions()
        options.unique = UniqueOptions(key: "train-intents:\(tenant)", mode: .whileQueued)
        return options
    }
}

struct TrainIntentsStage: PipelineStage {
    let pipeline: Pipeline
    init(_ pipeline: Pipeline) { self.pipeline = pipeline }

    func run(_ p: TrainIntents, context: JobContext) async throws {
        guard let embedder = pipeline.embedder else {
            throw QueueError(.invalidOptions, "this worker has no embedded model loaded; start it with SWITCHBOARD_MODEL_DIR set")
        }
        guard let path = pipeline.intentTrainingData else {
            throw QueueError(.invalidOptions, "this worker has no base intent examples; set SWITCHBOARD_INTENT_DATA")
        }
        let store = IntentModelStore(db: pipeline.db)
        let base = try IntentDataReader.read(path: path)
        let own = try await store.examples(tenant: p.tenant)
        let rows = base.rows + own
        let texts = rows.map(\.text)
        var vectors: [[Float]] = []
        for start in stride(from: 0, to: texts.count, by: 64) {
            try Task.checkCancellation()
            vectors += try await embedder.embed(Array(texts[start..<min(texts.count, start + 64)]))
        }
        let examples = zip(rows, vectors).map { IntentExample(text: $0.text, label: $0.intent, vector: $1) }
        var outside: [IntentExample] = []
        var calibration: String?
        if let oosPath = pipeline.intentOutOfScopeData {
            let oos = try IntentDataReader.readOutOfScope(path: oosPath)
            let oosTexts = oos.train + oos.validation
            let oosVectors = try await embedder.embed(oosTexts)
            outside = zip(oosTexts, oosVectors).map { IntentExample(text: $0, label: "", vector: $1) }
            calibration = oos.sha256
        }
        let fingerprint = IntentModelFile.sha256(Array((base.sha256 + own.map { "\($0.intent)\t\($0.text)" }.joined(separator: "\n")).utf8))
        let model = try await IntentTrainer().trainDetached(examples, outOfScope: outside, dataSHA256: fingerprint, calibrationSHA256: calibration)
        try await store.save(model, tenant: p.tenant)
        context.logger.info(
            "intent model trained",
            metadata: [
                "intents.labels": "\(model.labels.count)", "intents.examples": "\(rows.count)", "intents.tenantExamples": "\(own.count)",
                "intents.cvAccuracy": "\(model.manifest.crossValidationAccuracy)",
            ])
    }
}
