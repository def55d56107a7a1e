public import FoundationEssentials
public import Logging
public import SwitchboardQueue
import SwitchboardPostgres
import SwitchboardStore

/// `fenced-note`: a built-in stage for tests and ops, as the queue core's diagnostic jobs are: under the lock
/// `conversation:<conversation>`, it waits `ms` (ignoring cancellation, as a slow call that cannot be interrupted
/// would), then sets the customer's display name to `"<text> #<fencing token>"` in a transaction fenced by the lock.
/// A holder paused past its lease (SIGSTOP) whose job was taken over finds its late write refused.
public struct FencedNote: JobParameters, JobLogMetadata {
    public static let jobName = "fenced-note"
    public static var timeout: Duration { .seconds(60) }
    public let tenant: UUID
    public let customer: UUID
    public let conversation: UUID
    public let text: String
    public let ms: Int

    public init(tenant: UUID, customer: UUID, conversation: UUID, text: String, ms: Int) {
        (self.tenant, self.customer, self.conversation, self.text, self.ms) = (tenant, customer, conversation, text, ms)
    }

    public var lockKey: String? { "conversation:\(conversation)" }
    public var logMetadata: Logger.Metadata { ["tenant": "\(tenant)", "conversation": "\(conversation)"] }
}

struct FencedNoteStage: PipelineStage {
    let pipeline: Pipeline
    init(_ pipeline: Pipeline) { self.pipeline = pipeline }

    func run(_ p: FencedNote, context: JobContext) async throws {
        if p.ms > 0 { try? await Task.sleep(for: .milliseconds(p.ms)) }
        let name = "\(p.text) #\(context.fencingToken)"
        do {
            // In a task of its own, which the job's cancellation (a lost lease) does not reach: the write is attempted
            // however late, so the fence, not the cancellation, is what stops a stale holder here.
            let db = pipeline.db
            try await Task {
                try await db.withTenant(p.tenant, fencedBy: context) { conn in
                    try conn.execute("UPDATE customers SET display_name = $2 WHERE id = $1", [.uuid(p.customer), .text(name)])
                }
            }.value
            context.logger.info("fenced note written", metadata: ["lock.fence": "\(context.lockFence ?? 0)"])
        } catch let stale as StaleFence {
            context.logger.notice("fenced note refused: \(stale)")
            throw DoNotRetry("\(stale)")
        }
    }
}
