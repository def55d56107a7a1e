public import SwitchboardRedis
import Logging

/// Built-in maintenance jobs of the queue core, registered by every worker and meant for the scheduler.
///
/// | name | parameters | does |
/// |---|---|---|
/// | `queue-check` | `{"repair": true}` | runs `switchboard check` over every queue, logging each finding; with `repair` (the default) fixes them |
public enum MaintenanceJobs {
    public struct QueueCheck: JobParameters {
        public static let jobName = "queue-check"
        public static var retryPolicy: RetryPolicy { RetryPolicy(maxAttempts: 3) }
        public let repair: Bool
        public init(repair: Bool = true) { self.repair = repair }
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            repair = try c.decodeIfPresent(Bool.self, forKey: .repair) ?? true
        }
    }

    public static func register(in registry: JobRegistry, redis: RedisClient) {
        registry.register(QueueCheck.self) { p, context in
            let inspector = QueueInspector(redis: redis)
            var total = 0
            for queue in try await inspector.queues() {
                for finding in try await inspector.check(queue: queue, repair: p.repair) {
                    total += 1
                    context.logger.warning(
                        "queue inconsistency",
                        metadata: [
                            "queue": "\(finding.queue)", "kind": "\(finding.kind)", "subject": "\(finding.subject)",
                            "problem": "\(finding.problem)", "repair": "\(finding.repair ?? "none")",
                        ])
                }
            }
            context.logger.info("queue check done", metadata: ["findings": "\(total)", "repaired": "\(p.repair)"])
        }
    }
}
