public import FoundationEssentials
public import SwitchboardOrders
import SwitchboardUnderstanding

/// A conversation as ops read it (`switchboard conversations show`): its messages, and per turn the burst, the
/// understanding, the retrieved articles, the order, the decision with its reason, the reply with its send status, and
/// the stages' timings; with the cost of the conversation's AI calls. The JSON form is stable for scripts.
public struct ConversationTimeline: Sendable, Codable {
    public struct Conversation: Sendable, Codable {
        public var id: UUID
        public var tenantID: UUID
        public var customerID: UUID
        public var customerName: String?
        public var channelKind: String
        public var status: String
        public var handoffReason: String?
        public var lowConfidenceStreak: Int
        public var lastActivityAt: Date
        public var createdAt: Date
    }

    public struct Message: Sendable, Codable {
        public var id: UUID
        public var direction: String
        public var providerMessageID: String
        public var type: String
        public var text: String?
        public var sentAt: Date?
        public var createdAt: Date
        public var turnID: UUID?
        public var sendState: String?
        public var providerStatus: String?
    }

    public struct Intent: Sendable, Codable {
        public var name: String
        public var confidence: Double
        public var source: String
    }

    public struct Article: Sendable, Codable {
        public var externalID: String
        public var title: String
        public var score: Double
        public var similarity: Double?
    }

    public struct OrderLine: Sendable, Codable {
        public var sku: String?
        public var name: String
        public var quantity: Double
        public var unit: String?
        public var ambiguous: Bool
        public var candidates: [String]
    }

    public struct Order: Sendable, Codable {
        public var id: UUID
        /// The status and lines as the turn left them; `currentStatus` is the order's status now.
        public var status: String
        public var currentStatus: String?
        public var lines: [OrderLine]
        public var unmatched: [String]
    }

    public struct Reply: Sendable, Codable {
        public var messageID: UUID
        public var text: String?
        public var sendState: String?
        public var providerStatus: String?
    }

    public struct Turn: Sendable, Codable {
        public var id: UUID
        public var messageIDs: [UUID]
        public var providerMessageIDs: [String]
        public var text: String
        public var firstMessageAt: Date
        public var lastMessageAt: Date
        public var windowClosedAt: Date
        public var intents: [Intent]
        public var confidence: Double?
        public var outOfScope: Bool?
        public var sentiment: String?
        public var urgency: String?
        public var language: String?
        public var retrievedArticles: [Article]
        public var orderOutcome: String?
        public var order: Order?
        public var decision: String?
        public var reason: String?
        public var draft: String?
        public var reply: Reply?
        public var answeredBy: UUID?
        public var decidedAt: Date?
        /// Window close to decision, in milliseconds.
        public var latencyMs: Double?
        public var stages: [String: StageRun]
    }

    public struct AICost: Sendable, Codable {
        public var calls: Int
        public var hostedCalls: Int
        public var costMicroCents: Int64
    }

    public var conversation: Conversation
    public var messages: [Message]
    public var turns: [Turn]
    public var aiCost: AICost

    enum CodingKeys: String, CodingKey {
        case conversation, messages, turns
        case aiCost = "ai_cost"
    }
}

extension ConversationTimeline.Turn {
    init(_ turn: ConversationTurn, messages: [ConversationTimeline.Message], order: StoredOrder?) {
        let byID = Dictionary(messages.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        id = turn.id
        messageIDs = turn.messageIDs
        providerMessageIDs = turn.messageIDs.compactMap { byID[$0]?.providerMessageID }
        text = turn.text
        firstMessageAt = turn.firstMessageAt
        lastMessageAt = turn.lastMessageAt
        windowClosedAt = turn.windowClosedAt
        let u = turn.understanding
        intents = u?.intents.map { .init(name: $0.name, confidence: $0.confidence, source: $0.source.rawValue) } ?? []
        confidence = u?.confidence
        outOfScope = u?.outOfScope
        sentiment = u?.sentiment.label.rawValue
        urgency = u?.urgency.rawValue
        language = u?.language.rawValue
        retrievedArticles = (turn.retrieval ?? []).map {
            .init(externalID: $0.externalID, title: $0.title, score: $0.score, similarity: $0.similarity)
        }
        orderOutcome = turn.orderOutcome
        let live = order
        self.order = (turn.orderSnapshot ?? order).map { o in
            ConversationTimeline.Order(
                id: o.id, status: o.status.rawValue, currentStatus: live?.status.rawValue,
                lines: o.lines.map {
                    .init(sku: $0.sku, name: $0.name, quantity: $0.quantity, unit: $0.unit, ambiguous: $0.isAmbiguous, candidates: $0.candidates)
                },
                unmatched: o.unmatched.map(\.text))
        }
        decision = turn.decision?.rawValue
        reason = turn.reason
        draft = turn.draft
        reply = turn.replyMessageID.map { id in
            let m = byID[id]
            return ConversationTimeline.Reply(messageID: id, text: m?.text, sendState: m?.sendState, providerStatus: m?.providerStatus)
        }
        answeredBy = turn.answeredBy
        decidedAt = turn.decidedAt
        latencyMs = turn.decidedAt.map { ($0.timeIntervalSince(turn.windowClosedAt) * 1e5).rounded() / 100 }
        stages = turn.stages
    }
}
