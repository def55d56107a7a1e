import Jobs
import Foundation
import Logging
import SwitchboardAI
import SwitchboardEmbedding
import SwitchboardHTTP
import SwitchboardPostgres
import SwitchboardQueue
import SwitchboardRedis
import SwitchboardUnderstanding

/// Every job this build's workers run: the queue core's diagnostic and maintenance jobs and the pipeline's stages
/// (``Pipeline/stages``).
func makeJobRegistry(redis: RedisClient, db: PostgresClient, embedder: EmbeddingService?, settings: Settings) -> JobRegistry {
    let registry = coreJobRegistry(redis: redis)
    // One outbound HTTP client per worker process, for the model calls and the sends.
    let http = HTTPClient(poolSize: 4)
    // The base intent model understand-turn falls back to for tenants without their own.
    let intentModel: IntentModel?
    do { intentModel = try IntentModelFile.read(path: settings.intentModelPath) } catch {
        Logger(label: "switchboard.worker").warning(
            "no intent model: understand-turn jobs will fail until SWITCHBOARD_INTENT_MODEL names one", metadata: ["error": "\(error)"])
        intentModel = nil
    }
    var pipeline = Pipeline(
        db: db, queue: JobQueue(redis: redis), embedder: embedder, intentTrainingData: settings.intentTrainingData,
        intentOutOfScopeData: settings.intentOutOfScopeData, intentModel: intentModel,
        ai: makeTenantAI(db: db, redis: redis, http: http, settings: settings),
        outbound: outboundSettings(settings), http: http,
        questionPool: embedder == nil ? nil : settings.questionPool(logger: Logger(label: "switchboard.worker")))
    pipeline.testFault = ProcessInfo.processInfo.environment["SWITCHBOARD_TEST_FAULT"].flatMap(TestFault.init)
    pipeline.register(in: registry)
    return registry
}

/// The types of every job ``makeJobRegistry(redis:db:embedder:settings:)`` registers, without opening a database: what `enqueue`
/// resolves a job's declared options from, and what the scheduler checks its entries against.
func knownJobTypes(redis: RedisClient) -> [any JobParameters.Type] {
    coreJobRegistry(redis: redis).jobTypes + Pipeline.jobTypes
}

/// The names of ``knownJobTypes(redis:)``.
func knownJobNames(redis: RedisClient) -> Set<String> {
    Set(knownJobTypes(redis: redis).map { $0.jobName })
}

private func coreJobRegistry(redis: RedisClient) -> JobRegistry {
    let registry = JobRegistry()
    DiagnosticJobs.register(in: registry, redis: redis)
    MaintenanceJobs.register(in: registry, redis: redis)
    return registry
}

/// Tenants' hosted models for a worker: needs SWITCHBOARD_SECRET_KEY (to open provider keys) and the price table;
/// without either the AI stages run on the embedded models only, and the worker says so once.
func makeTenantAI(db: PostgresClient, redis: RedisClient, http: HTTPClient, settings: Settings) -> TenantAI? {
    let logger = Logger(label: "switchboard.ai")
    guard let box = try? settings.secretBox() else {
        logger.info("no SWITCHBOARD_SECRET_KEY: hosted models are off in this worker, the embedded models serve every agent")
        return nil
    }
    do {
        return TenantAI(
            settings: ProviderSettingsStore(db: db, secretBox: box), prices: try PriceTable.load(path: settings.pricesPath),
            http: http,
            redis: redis, logger: logger)
    } catch {
        logger.warning("hosted models are off in this worker", metadata: ["reason": "\(error)"])
        return nil
    }
}

/// How this worker sends replies. `SWITCHBOARD_WHATSAPP_BASE_URL`, `SWITCHBOARD_TWILIO_BASE_URL` (a proxy, or a test
/// server), `SWITCHBOARD_SEND_UNCERTAIN_WAIT` (default 10m) and `SWITCHBOARD_TEST_FAULT` (tests) adjust it.
func outboundSettings(_ settings: Settings) -> OutboundSettings {
    let env = ProcessInfo.processInfo.environment
    var outbound = OutboundSettings()
    outbound.publicURL = settings.publicURL
    outbound.secretBox = try? settings.secretBox()
    if let url = env["SWITCHBOARD_WHATSAPP_BASE_URL"], !url.isEmpty { outbound.whatsappBaseURL = url }
    if let url = env["SWITCHBOARD_TWILIO_BASE_URL"], !url.isEmpty { outbound.twilioBaseURL = url }
    if let wait = env["SWITCHBOARD_SEND_UNCERTAIN_WAIT"], let d = try? DurationText.parse(wait) { outbound.uncertainWait = d }
    if let fault = env["SWITCHBOARD_TEST_FAULT"] { outbound.testFault = TestFault(fault) }
    return outbound
}
