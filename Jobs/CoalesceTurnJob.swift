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
    /// The sender's intake-mark key (``IntakeMark/sender``): the burst waits while the sender has messages the
    /// receiver accepted and ingest has not stored.
    public let sender: String?
    /// A postponed run's burst, carried into the next run.
    public let carried: [UUID]?
    /// When the burst first waited for a late message (ms since 1970): it waits at most the max wait from then.
    public let postponedSinceMs: Int64?

    public init(tenant: UUID, conversation: UUID, message: UUID, sender: String? = nil, carried: [UUID]? = nil, postponedSinceMs: Int64? = nil) {
        (self.tenant, self.conversation, self.message) = (tenant, conversation, message)
        (self.sender, self.carried, self.postponedSinceMs) = (sender, carried, postponedSinceMs)
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
        let runs = collected.isEmpty ? [p] : collected.filter { $0.conversation == p.conversation }
        var ids: [UUID] = []
        for id in runs.map(\.message) + runs.flatMap({ $0.carried ?? [] }) where !ids.contains(id) { ids.append(id) }
        let burst = ids
        if try await postponed(p, runs: runs, burst: burst, context: context) { return }
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

extension CoalesceTurnStage {
    /// Postpones the burst while its sender has messages accepted by the receiver and not stored yet (a late ingest:
    /// its worker died, or the database was restarting), at most ``Pipeline/intakeWait`` (2 minutes; the tenant's max
    /// wait when that is longer) from the first postponement, on marks no older than that:
    /// the burst is enqueued again, debounced on the conversation's key, carrying its messages. Returns whether it did.
    func postponed(_ p: CoalesceTurn, runs: [CoalesceTurn], burst: [UUID], context: JobContext) async throws -> Bool {
        let senders = Set(runs.compactMap(\.sender))
        guard !senders.isEmpty else { return false }
        let settings = try await pipeline.settings.settings(tenant: p.tenant)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let since = runs.compactMap(\.postponedSinceMs).min() ?? now
        let maxWait = max(settings.burstMaxWait, pipeline.intakeWait).wholeMilliseconds
        guard now - since < maxWait else { return false }
        let pending: Int
        do {
            pending = try await IntakeMarks(redis: pipeline.queue.redis).pending(senders: senders, sinceMs: now - maxWait)
        } catch {
            context.logger.notice("intake marks unreadable; the burst does not wait: \(error)")
            return false
        }
        guard pending > 0 else { return false }
        var options = pipeline.successorOptions()
        options.debounce = DebounceOptions(
            key: CoalesceTurn.debounceKey(tenant: p.tenant, conversation: p.conversation), window: .seconds(1), maxWait: settings.burstMaxWait,
            collect: true)
        try context.enqueueOnSuccess(
            CoalesceTurn(
                tenant: p.tenant, conversation: p.conversation, message: p.message, sender: senders.sorted().first, carried: burst,
                postponedSinceMs: since),
            options: options)
        context.logger.info("burst waits for messages still being ingested", metadata: ["pending": "\(pending)", "messages": "\(burst.count)"])
        return true
    }
}

extension StageRun {
    /// This run of a stage, from `startedAt` until now.
    init(_ context: JobContext, startedAt: Date) {
        self.init(job: context.id, attempt: context.attempt, startedAt: startedAt, ms: (Date().timeIntervalSince(startedAt) * 1e5).rounded() / 100)
    }
}
