public import FoundationEssentials
public import Logging
public import SwitchboardQueue

/// Which stage of a turn a ``TurnJob`` runs: the stages share their parameters and differ in name, lock and timeout.
public protocol TurnStageKind: Sendable {
    static var jobName: PipelineJobName { get }
    /// Whether the stage runs under the conversation's lock (its writes fenced by it).
    static var locksConversation: Bool { get }
    static var timeout: Duration { get }
}

extension TurnStageKind {
    public static var locksConversation: Bool { false }
    public static var timeout: Duration { .seconds(60) }
}

/// A job about one turn of a conversation, on queue `pipeline`.
public struct TurnJob<Kind: TurnStageKind>: JobParameters, JobLogMetadata {
    public static var jobName: String { Kind.jobName.rawValue }
    public static var queue: String { "pipeline" }
    public static var timeout: Duration { Kind.timeout }

    public let tenant: UUID
    public let conversation: UUID
    public let turn: UUID

    public init(tenant: UUID, conversation: UUID, turn: UUID) { (self.tenant, self.conversation, self.turn) = (tenant, conversation, turn) }

    public var lockKey: String? { Kind.locksConversation ? "conversation:\(conversation)" : nil }
    public var logMetadata: Logger.Metadata { ["tenant": "\(tenant)", "conversation": "\(conversation)", "turn": "\(turn)"] }
}

public enum UnderstandTurnKind: TurnStageKind {
    public static var jobName: PipelineJobName { .understandTurn }
}

public enum RetrieveContextKind: TurnStageKind {
    public static var jobName: PipelineJobName { .retrieveContext }
}

public enum DecideTurnKind: TurnStageKind {
    public static var jobName: PipelineJobName { .decideTurn }
    public static var locksConversation: Bool { true }
}

/// `understand-turn` (UnderstandTurnJob.swift).
public typealias UnderstandTurn = TurnJob<UnderstandTurnKind>
/// `retrieve-context` (RetrieveContextJob.swift).
public typealias RetrieveContext = TurnJob<RetrieveContextKind>
/// `decide-turn` (DecideTurnJob.swift).
public typealias DecideTurn = TurnJob<DecideTurnKind>
