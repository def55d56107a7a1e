import Jobs
import Logging
import SwitchboardAI
import SwitchboardEmbedding
import SwitchboardHTTP
import SwitchboardPostgres
import SwitchboardQueue
import SwitchboardRedis

/// Every job this build's workers run: the queue core's diagnostic and maintenance jobs and the pipeline's stages
/// (``Pipeline/stages``).
func makeJobRegistry(redis: RedisClient, db: PostgresClient, embedder: EmbeddingService?, settings: Settings) -> JobRegistry {
    let registry = coreJobRegistry(redis: redis)
    Pipeline(
        db: db, queue: JobQueue(redis: redis), embedder: embedder, intentTrainingData: settings.intentTrainingData,
        intentOutOfScopeData: settings.intentOutOfScopeData, ai: makeTenantAI(db: db, redis: redis, settings: settings)
    ).register(in: registry)
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
func makeTenantAI(db: PostgresClient, redis: RedisClient, settings: Settings) -> TenantAI? {
    let logger = Logger(label: "switchboard.ai")
    guard let box = try? settings.secretBox() else {
        logger.info("no SWITCHBOARD_SECRET_KEY: hosted models are off in this worker, the embedded models serve every agent")
        return nil
    }
    do {
        return TenantAI(
            settings: ProviderSettingsStore(db: db, secretBox: box), prices: try PriceTable.load(path: settings.pricesPath),
            http: HTTPClient(poolSize: 4),
            redis: redis, logger: logger)
    } catch {
        logger.warning("hosted models are off in this worker", metadata: ["reason": "\(error)"])
        return nil
    }
}
