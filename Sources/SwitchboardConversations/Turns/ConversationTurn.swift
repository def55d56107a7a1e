public import FoundationEssentials
public import SwitchboardUnderstanding
public import SwitchboardOrders

/// One turn of a conversation as stored (`conversation_turns`): the burst of messages it merged and what each stage of
/// the pipeline made of it.
public struct ConversationTurn: Sendable, Codable {
    public var id: UUID
    public var conversationID: UUID
    /// The burst's inbound messages, in the order they were sent.
    public var messageIDs: [UUID]
    /// Their texts, joined by newlines in that order.
    public var text: String
    public var firstMessageAt: Date
    public var lastMessageAt: Date
    /// When the burst's window closed (latencies count from here).
    public var windowClosedAt: Date
    public var understanding: TurnUnderstanding?
    public var retrieval: [TurnPassage]?
    public var orderID: UUID?
    public var orderOutcome: String?
    /// The order as this turn left it.
    public var orderSnapshot: StoredOrder?
    public var decision: TurnDecision.Kind?
    public var reason: String?
    public var draft: String?
    public var replyMessageID: UUID?
    /// For a superseded turn: the turn whose answer covered it.
    public var answeredBy: UUID?
    public var decidedAt: Date?
    /// Each stage's run, by stage name.
    public var stages: [String: StageRun]
}

/// A help-center passage retrieved for a turn, with the question part it answers.
public struct TurnPassage: Sendable, Codable, Hashable {
    public var articleID: UUID
    /// The article's front-matter `id`.
    public var externalID: String
    public var title: String
    public var text: String
    /// The fused retrieval score, and the dense cosine when the dense side ranked it.
    public var score: Double
    public var similarity: Double?
    /// The part of the turn it was retrieved for.
    public var query: String

    public init(articleID: UUID, externalID: String, title: String, text: String, score: Double, similarity: Double?, query: String) {
        (self.articleID, self.externalID, self.title, self.text) = (articleID, externalID, title, text)
        (self.score, self.similarity, self.query) = (score, similarity, query)
    }
}

/// One stage's (last) run on a turn.
public struct StageRun: Sendable, Codable, Hashable {
    public var job: String
    public var attempt: Int
    public var startedAt: Date
    public var ms: Double

    public init(job: String, attempt: Int, startedAt: Date, ms: Double) {
        (self.job, self.attempt, self.startedAt, self.ms) = (job, attempt, startedAt, ms)
    }

    enum CodingKeys: String, CodingKey {
        case job, attempt
        case startedAt = "started_at"
        case ms
    }
}
