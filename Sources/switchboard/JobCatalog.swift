import Jobs
import SwitchboardPostgres
import SwitchboardQueue
import SwitchboardRedis

/// Every job this build's workers run: the queue core's diagnostic and maintenance jobs and the pipeline's jobs
/// that have landed (`ingest-message`, `message-status`).
func makeJobRegistry(redis: RedisClient, db: PostgresClient) -> JobRegistry {
    let registry = coreJobRegistry(redis: redis)
    PipelineJobs.register(in: registry, db: db)
    return registry
}

/// The names of every job ``makeJobRegistry(redis:db:)`` registers, without opening a database (the scheduler
/// checks its entries against them).
func knownJobNames(redis: RedisClient) -> Set<String> {
    Set(coreJobRegistry(redis: redis).jobNames).union(PipelineJobs.jobNames)
}

private func coreJobRegistry(redis: RedisClient) -> JobRegistry {
    let registry = JobRegistry()
    DiagnosticJobs.register(in: registry, redis: redis)
    MaintenanceJobs.register(in: registry, redis: redis)
    return registry
}
