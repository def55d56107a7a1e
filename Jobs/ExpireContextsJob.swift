public import FoundationEssentials
public import SwitchboardQueue
import SwitchboardConversations
import Logging

/// `expire-contexts`: closes the conversations whose context is due (idle past the tenant's context idle time, 30 minutes
/// by default), keeping their key facts, topic and pending action on the customer (``ContextExpiry``). Run every
/// minute by the scheduler (Schedules/maintenance.yml); one batch per transaction, at most 50 s a run (a backlog goes on
/// at the next tick); safe when two runs overlap.
public struct ExpireContexts: JobParameters {
    public static let jobName = PipelineJobName.expireContexts.rawValue
    public static var queue: String { "maintenance" }
    public static var timeout: Duration { .seconds(120) }
    public static var retryPolicy: RetryPolicy { RetryPolicy(maxAttempts: 3) }

    /// Rows per transaction.
    public let batch: Int

    public init(batch: Int = 1000) { self.batch = batch }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        batch = try c.decodeIfPresent(Int.self, forKey: .batch) ?? 1000
    }
}

struct ExpireContextsStage: PipelineStage {
    let pipeline: Pipeline
    init(_ pipeline: Pipeline) { self.pipeline = pipeline }

    func run(_ p: ExpireContexts, context: JobContext) async throws {
        guard (1...50_000).contains(p.batch) else { throw DoNotRetry("batch must be between 1 and 50000, not \(p.batch)") }
        let report = try await ContextExpiry(db: pipeline.db, batchSize: p.batch).run()
        context.logger.info(
            "contexts expired",
            metadata: [
                "expired": "\(report.expired)", "postponed": "\(report.postponed)", "with_person": "\(report.withPerson)",
                "batches": "\(report.batches)", "longest_batch_ms": "\(report.longestBatchMs)", "incomplete": "\(report.incomplete)",
            ])
    }
}
