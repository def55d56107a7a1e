public import FoundationEssentials
public import SwitchboardQueue
import SwitchboardConversations
import Logging

/// `purge-payloads`: deletes raw provider payloads older than each tenant's retention (90 days by default), keeping the
/// message text, turns and orders (``PayloadRetention``). Run daily by the scheduler, in batches.
public struct PurgePayloads: JobParameters {
    public static let jobName = PipelineJobName.purgePayloads.rawValue
    public static var queue: String { "maintenance" }
    public static var timeout: Duration { .seconds(120) }
    public static var retryPolicy: RetryPolicy { RetryPolicy(maxAttempts: 3) }

    public init() {}
}

struct PurgePayloadsStage: PipelineStage {
    let pipeline: Pipeline
    init(_ pipeline: Pipeline) { self.pipeline = pipeline }

    func run(_ p: PurgePayloads, context: JobContext) async throws {
        let report = try await PayloadRetention(db: pipeline.db).run()
        context.logger.info(
            "raw payloads purged",
            metadata: [
                "tenants": "\(report.tenants)", "messages": "\(report.messages)", "status_events": "\(report.statusEvents)",
                "incomplete": "\(report.incomplete)",
            ])
    }
}
