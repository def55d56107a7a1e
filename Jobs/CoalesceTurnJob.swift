public import FoundationEssentials
public import Logging
public import SwitchboardQueue
import SwitchboardConversations
import SwitchboardPostgres
import SwitchboardStore

/// `coalesce-turn`: a burst of a customer's messages becomes one turn. Enqueued by `ingest-message` with its completion,
/// debounced per conversation with collect (the tenant's window, 5 s by default, capped by its max wait, 20 s): the job
/// runs once the customer has been quiet for the window and reads every message of the burst from its collected
/// parameters. The turn's id derives from the burst's messages, so a re-run finds the turn it made and a duplicate
/// creates nothing; a message already in a turn stays there. Then `understand-turn`.
public struct CoalesceTurn: JobParameters, JobLogMetadata {
    public static let jobName = PipelineJobName.coalesceTurn.rawValue
    public static var queue: String { "pipeline" }

    public let tenant: UUID
    public let conversation: UUID
    /// The inbound message that enqueued this job (the burst's others arrive through the collected parameters).
    public let message: UUID

    public init(tenant: UUID, conversation: UUID, message: UUID) {
        (self.tenant, self.conversation, self.message) = (tenant, conversation, message)
    }

    /// The debounce key of a conversation's bursts.
    public static func debounceKey(tenant: UUID, conversation: UUID) -> String { "turn:\(tenant):\(conversation)" }

    public var logMetadata: Logger.Metadata { ["tenant": "\(tenant)", "conversation": "\(conversation)"] }
}

struct CoalesceTurnStage: PipelineStage {
    let pipeline: Pipeline
    init(_ pipeline: Pipeline) { self.pipeline = pipeline }

    func run(_ p: CoalesceTurn, context: JobContext) async throws {
        let started = Date()
        let collected = try context.collected(CoalesceTurn.self)
        let burst = collected.isEmpty ? [p.message] : collected.filter { $0.conversation == p.conversation }.map(\.message)
        // The window closed when the job became ready (its debounced run time); a job enqueued some other way, now.
        let closedAt = context.readyAtMs > 0 ? Date(timeIntervalSince1970: Double(context.readyAtMs) / 1000) : started
        let result = try await pipeline.db.withTenant(p.tenant) { conn -> TurnStore.Coalesced in
            let result = try TurnStore.coalesce(tenant: p.tenant, conversation: p.conversation, burst: burst, closedAt: closedAt, conn: conn)
            if case .created(let turn) = result {
                try TurnStore.recordStage("coalesce", StageRun(context, startedAt: started), turn: turn.id, conn: conn)
            }
            return result
        }
        switch result {
        case .nothingNew:
            context.logger.info("every message of the burst is in a turn already", metadata: ["messages": "\(burst.count)"])
        case .created(let turn), .existing(let turn):
            context.logger.info("turn made", metadata: ["turn": "\(turn.id)", "messages": "\(turn.messageIDs.count)"])
            try context.enqueueOnSuccess(
                UnderstandTurn(tenant: p.tenant, conversation: p.conversation, turn: turn.id), options: pipeline.successorOptions())
        }
    }
}

extension StageRun {
    /// This run of a stage, from `startedAt` until now.
    init(_ context: JobContext, startedAt: Date) {
        self.init(job: context.id, attempt: context.attempt, startedAt: startedAt, ms: (Date().timeIntervalSince(startedAt) * 1e5).rounded() / 100)
    }
}
