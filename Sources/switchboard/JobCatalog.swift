import Jobs
import SwitchboardEmbedding
import SwitchboardPostgres
import SwitchboardQueue
import SwitchboardRedis

/// Every job this build's workers run: the queue core's diagnostic and maintenance jobs and the pipeline's stages
/// (``Pipeline/stages``).
func makeJobRegistry(redis: RedisClient, db: PostgresClient, embedder: EmbeddingService?, settings: Settings) -> JobRegistry {
    let registry = coreJobRegistry(redis: redis)
    Pipeline(
        db: db, queue: JobQueue(redis: redis), embedder: embedder, intentTrainingData: settings.intentTrainingData,
        intentOutOfScopeData: settings.intentOutOfScopeData
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
