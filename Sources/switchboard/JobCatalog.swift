import SwitchboardQueue
import SwitchboardRedis

/// Every job this build's workers run: the queue core's diagnostic and maintenance jobs (the pipeline's jobs join
/// as they land). The scheduler checks schedule entries against the same list.
func makeJobRegistry(redis: RedisClient) -> JobRegistry {
    let registry = JobRegistry()
    DiagnosticJobs.register(in: registry, redis: redis)
    MaintenanceJobs.register(in: registry, redis: redis)
    return registry
}
