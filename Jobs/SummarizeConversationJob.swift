public import FoundationEssentials
public import Logging
public import SwitchboardQueue
import SwitchboardAI
import SwitchboardConversations
import SwitchboardProviders
import SwitchboardPostgres
import SwitchboardStore

/// `summarize-conversation`: summarises a conversation's messages after its last summary up to position `through`, and
/// stores the summary with the range it covers (``SummaryStore``). Enqueued by `ingest-message` when a conversation
/// passes the tenant's `summary_every` messages since its last summary (20 by default), and by `summarize-sweep`.
/// The tenant's summary models write it when configured, else the embedded extractive summariser
/// (``ExtractiveSummarizer``). Idempotent: a range is summarised once; a re-run finds its row and changes nothing.
public struct SummarizeConversation: JobParameters, JobLogMetadata {
    public static let jobName = PipelineJobName.summarizeConversation.rawValue
    public static var queue: String { "pipeline" }

    public let tenant: UUID
    public let conversation: UUID
    /// The last position to cover (the message that made the summary due).
    public let through: Int

    public init(tenant: UUID, conversation: UUID, through: Int) { (self.tenant, self.conversation, self.through) = (tenant, conversation, through) }

    public var lockKey: String? { "summarize:\(conversation)" }
    public var logMetadata: Logger.Metadata { ["tenant": "\(tenant)", "conversation": "\(conversation)"] }

    /// One summary job per conversation and starting point, however many messages arrive while it waits.
    public static func options(tenant: UUID, conversation: UUID, after: Int) -> JobOptions {
        var options = JobOptions()
        options.unique = UniqueOptions(key: "summarize:\(conversation):\(after)", mode: .whileActive)
        return options
    }
}

struct SummarizeConversationStage: PipelineStage {
    let pipeline: Pipeline
    init(_ pipeline: Pipeline) { self.pipeline = pipeline }

    enum Outcome: Sendable, Equatable {
        case stored(first: Int, last: Int, method: String)
        case notDue
        case alreadyStored
    }

    func run(_ p: SummarizeConversation, context: JobContext) async throws {
        switch try await summarize(p, context: context) {
        case .stored(let first, let last, let method):
            context.logger.info("conversation summarised", metadata: ["first": "\(first)", "last": "\(last)", "method": "\(method)"])
        case .notDue: context.logger.info("summary not due")
        case .alreadyStored: context.logger.info("range already summarised")
        }
    }

    func summarize(_ p: SummarizeConversation, context: JobContext) async throws -> Outcome {
        let db = pipeline.db
        guard
            let (after, messages) = try await db.withTenant(
                p.tenant,
                { conn -> (Int, [SummaryMessage])? in
                    guard let progress = try SummaryStore.progress(conversation: p.conversation, conn: conn) else { return nil }
                    guard p.through > progress.summarizedThrough else { return (progress.summarizedThrough, []) }
                    return (
                        progress.summarizedThrough,
                        try SummaryStore.messages(
                            conversation: p.conversation, tenant: p.tenant, after: progress.summarizedThrough, through: p.through, conn: conn)
                    )
                })
        else { throw DoNotRetry("no conversation \(p.conversation) for this tenant") }
        guard p.through > after else { return .alreadyStored }
        guard !messages.isEmpty else { return .notDue }
        var summary = ExtractiveSummarizer.summarize(messages)
        var method = "extractive"
        if let ai = pipeline.ai, try await ai.hasHostedModels(tenant: p.tenant, agent: .summary) {
            let embedded = summary
            let answer = try await ai.ask(
                tenant: p.tenant, agent: .summary, messages: SummaryPrompt.messages(messages), as: SummaryPrompt.Output.self,
                run: CallRun(jobID: context.id, attempt: context.attempt, conversation: p.conversation), maxTokens: 300,
                deadline: context.deadline, embedded: { SummaryPrompt.Output(text: embedded) })
            if !answer.model.isEmbedded {
                summary = answer.value.text
                method = answer.model.description
            }
        }
        if summary.isEmpty { summary = "(no text)" }
        let (first, last, count, text, how) = (after + 1, p.through, messages.count, summary, method)
        let stored = try await db.withTenant(p.tenant) { conn in
            try SummaryStore.save(
                text, method: how, first: first, last: last, messageCount: count, conversation: p.conversation, tenant: p.tenant, conn: conn)
        }
        return stored ? .stored(first: first, last: last, method: method) : .alreadyStored
    }
}

/// `summarize-sweep`: finds conversations more than `summary_every` messages past their last summary with no summary
/// job (its trigger lost, e.g. with a Redis restart) and enqueues one for each (at most `limit` a run). Run every ten
/// minutes by the scheduler.
public struct SummarizeSweep: JobParameters {
    public static let jobName = PipelineJobName.summarizeSweep.rawValue
    public static var queue: String { "maintenance" }
    public static var retryPolicy: RetryPolicy { RetryPolicy(maxAttempts: 3) }

    public let limit: Int

    public init(limit: Int = 500) { self.limit = limit }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        limit = try c.decodeIfPresent(Int.self, forKey: .limit) ?? 500
    }
}

struct SummarizeSweepStage: PipelineStage {
    let pipeline: Pipeline
    init(_ pipeline: Pipeline) { self.pipeline = pipeline }

    func run(_ p: SummarizeSweep, context: JobContext) async throws {
        let limit = Int64(max(1, min(p.limit, 10_000)))
        let due = try await pipeline.db.withSystemAccess { conn in
            try conn.query(
                """
                SELECT v.tenant_id, v.id, v.message_count, v.summarized_through FROM conversations v
                LEFT JOIN pipeline_settings s ON s.tenant_id = v.tenant_id
                WHERE v.message_count - v.summarized_through > coalesce(s.summary_every, 20)
                ORDER BY v.last_activity_at LIMIT $1
                """, [.int(limit)]
            ).map {
                (
                    tenant: try $0.decode("tenant_id", as: UUID.self), conversation: try $0.decode("id", as: UUID.self),
                    through: try $0.decode("message_count", as: Int.self), after: try $0.decode("summarized_through", as: Int.self)
                )
            }
        }
        for d in due {
            try await pipeline.queue.enqueue(
                SummarizeConversation(tenant: d.tenant, conversation: d.conversation, through: d.through),
                options: pipeline.successorOptions(SummarizeConversation.options(tenant: d.tenant, conversation: d.conversation, after: d.after)))
        }
        context.logger.info("summary sweep", metadata: ["enqueued": "\(due.count)"])
    }
}
