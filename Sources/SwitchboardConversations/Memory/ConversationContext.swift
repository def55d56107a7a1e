public import Foundation
public import SwitchboardOrders
public import SwitchboardUnderstanding

/// A conversation's working memory (table `conversation_context`): what it is about, what waits for the customer, what
/// the customer told us. Written by `decide-turn` with its other writes; cleared when the conversation expires, its
/// durable part (``KeyFacts``, topic, pending action) kept on the customer as ``CustomerMemory``.
public struct ConversationContext: Sendable, Codable, Equatable {
    public var conversationID: UUID
    /// The turn's main intent (`place_order` for an order), kept across small talk.
    public var currentTopic: String?
    public var pendingAction: PendingAction?
    /// The latest value of each entity kind the customer gave (`city`, `order_id`, `email`, …).
    public var extractedEntities: [String: String]
    public var lastProductViewed: String?
    public var summary: String?
    public var keyFacts: KeyFacts
    /// The conversation's last activity when the context was written.
    public var lastActivityAt: Date
    public var idleSeconds: Int
    /// When the conversation closes if nothing happens; nil while a person has it, and once expired.
    public var expiresAt: Date?
    public var expiredAt: Date?
    /// The earlier conversation whose memory this one's first turn restored.
    public var restoredFrom: UUID?

    public init(conversationID: UUID, lastActivityAt: Date, idleSeconds: Int) {
        self.conversationID = conversationID
        self.extractedEntities = [:]
        self.keyFacts = KeyFacts()
        self.lastActivityAt = lastActivityAt
        self.idleSeconds = idleSeconds
    }
}

/// Something the conversation is waiting on the customer for.
public struct PendingAction: Sendable, Codable, Equatable {
    /// `order_draft`: an order draft awaiting the customer's confirmation or changes.
    public var kind: String
    public var orderID: UUID?
    public var lines: Int

    public init(kind: String, orderID: UUID?, lines: Int) { (self.kind, self.orderID, self.lines) = (kind, orderID, lines) }

    public static let orderDraft = "order_draft"

    enum CodingKeys: String, CodingKey {
        case kind, lines
        case orderID = "order_id"
    }
}

/// Facts about the customer worth keeping across conversations.
public struct KeyFacts: Sendable, Codable, Equatable {
    /// The name the customer gave or their profile shows.
    public var name: String?
    public var city: String?
    public var email: String?
    /// Products the customer ordered, most recent first (at most ``maximumProducts``).
    public var usualProducts: [String]

    public init(name: String? = nil, city: String? = nil, email: String? = nil, usualProducts: [String] = []) {
        (self.name, self.city, self.email, self.usualProducts) = (name, city, email, usualProducts)
    }

    public static let maximumProducts = 5

    public var isEmpty: Bool { name == nil && city == nil && email == nil && usualProducts.isEmpty }

    /// These facts with `newer`'s over them (products merged, the newer first).
    public func merged(with newer: KeyFacts) -> KeyFacts {
        var out = KeyFacts(name: newer.name ?? name, city: newer.city ?? city, email: newer.email ?? email)
        for product in newer.usualProducts + usualProducts where !out.usualProducts.contains(product) {
            out.usualProducts.append(product)
        }
        out.usualProducts = Array(out.usualProducts.prefix(Self.maximumProducts))
        return out
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        city = try c.decodeIfPresent(String.self, forKey: .city)
        email = try c.decodeIfPresent(String.self, forKey: .email)
        usualProducts = try c.decodeIfPresent([String].self, forKey: .usualProducts) ?? []
    }

    enum CodingKeys: String, CodingKey {
        case name, city, email
        case usualProducts = "usual_products"
    }
}

/// What an expired conversation left on the customer, for their next conversation's first turn.
public struct CustomerMemory: Sendable, Equatable {
    public var previousConversation: UUID
    public var previousTopic: String?
    public var pendingAction: PendingAction?
    public var keyFacts: KeyFacts
    public var keptAt: Date

    public init(previousConversation: UUID, previousTopic: String?, pendingAction: PendingAction?, keyFacts: KeyFacts, keptAt: Date) {
        (self.previousConversation, self.previousTopic, self.pendingAction) = (previousConversation, previousTopic, pendingAction)
        (self.keyFacts, self.keptAt) = (keyFacts, keptAt)
    }
}

/// What a returning customer's first turn brings back, for the reply: the earlier topic and an order still waiting.
public struct RestoredMemory: Sendable {
    public var previousTopic: String?
    /// The earlier conversation's order draft, when it is still open.
    public var pendingOrder: StoredOrder?

    public init(previousTopic: String?, pendingOrder: StoredOrder?) { (self.previousTopic, self.pendingOrder) = (previousTopic, pendingOrder) }
}

extension ConversationContext {
    /// The context after a decided turn: its topic, entities, pending order and facts folded into the previous context
    /// (or a new one), with the expiry moved to `idle` after the conversation's last activity. `open` is false when the
    /// conversation is with a person after this turn: a person's conversation does not expire.
    public static func after(
        _ previous: ConversationContext?, conversation: UUID, understanding: TurnUnderstanding, order: StoredOrder?, decision: TurnDecision,
        lastActivityAt: Date, idleSeconds: Int, open: Bool, profileName: String?
    ) -> ConversationContext {
        var ctx = previous ?? ConversationContext(conversationID: conversation, lastActivityAt: lastActivityAt, idleSeconds: idleSeconds)
        ctx.lastActivityAt = lastActivityAt
        ctx.idleSeconds = idleSeconds
        ctx.expiresAt = open ? lastActivityAt.addingTimeInterval(Double(idleSeconds)) : nil
        ctx.expiredAt = nil
        if let topic = topic(of: understanding, order: order) { ctx.currentTopic = topic }
        for entity in understanding.entities { ctx.extractedEntities[entity.kind.rawValue] = entity.value }
        var facts = KeyFacts(name: profileName)
        for entity in understanding.entities {
            switch entity.kind {
            case .personName: facts.name = entity.value
            case .city: facts.city = entity.value
            case .email: facts.email = entity.value
            default: break
            }
        }
        if let order {
            let products = order.lines.filter { !$0.isAmbiguous && $0.sku != nil }.map(\.name)
            facts.usualProducts = Array(products.reversed())
            if let last = products.last { ctx.lastProductViewed = last }
            ctx.pendingAction =
                order.status.isOpen ? PendingAction(kind: PendingAction.orderDraft, orderID: order.id, lines: order.lines.count) : nil
        }
        ctx.keyFacts = ctx.keyFacts.merged(with: facts)
        return ctx
    }

    /// The turn's topic: the order when it made or changed one, else its most pressing intent that is not small talk.
    static func topic(of u: TurnUnderstanding, order: StoredOrder?) -> String? {
        if let order, !order.lines.isEmpty { return "place_order" }
        return u.intents.first { !DecisionRules.smallTalk.contains($0.name) }?.name
    }
}
