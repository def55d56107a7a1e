public import FoundationEssentials
public import Logging
public import SwitchboardQueue
import SwitchboardAI
import SwitchboardProviders

/// `probe-model`: asks a tenant's agent models one tiny question through the same path the AI stages use (budget,
/// the provider key's rate limit across workers, fallback to the embedded models, usage recorded once). For ops, to
/// see a tenant's models answer from the workers, and for the rate-limit and fallback tests.
public struct ProbeModel: JobParameters, JobLogMetadata {
    public static let jobName = "probe-model"
    public static var queue: String { "pipeline" }
    public let tenant: UUID
    public let agent: String

    public init(tenant: UUID, agent: String = "reply") { (self.tenant, self.agent) = (tenant, agent) }
    public var logMetadata: Logger.Metadata { ["tenant": "\(tenant)", "agent": "\(agent)"] }
}

struct ProbeModelStage: PipelineStage {
    let pipeline: Pipeline
    init(_ pipeline: Pipeline) { self.pipeline = pipeline }

    func run(_ p: ProbeModel, context: JobContext) async throws {
        guard let ai = pipeline.ai else { throw DoNotRetry("this worker has no hosted-model access: set SWITCHBOARD_SECRET_KEY") }
        guard let agent = AgentKind(rawValue: p.agent) else { throw DoNotRetry("unknown agent \(p.agent); use intent, reply, summary or extraction") }
        let answer = try await ai.ask(
            tenant: p.tenant, agent: agent, messages: ModelProbe.messages, as: ModelProbe.self,
            run: CallRun(jobID: context.id, attempt: context.attempt), maxTokens: 16, deadline: context.deadline, embedded: { ModelProbe(ok: true) })
        context.logger.info("model answered", metadata: ["model": "\(answer.model)", "attempts": "\(answer.attempts.count)"])
    }
}
