public import FoundationEssentials

/// Where an order stands. PENDING and REVIEW are open drafts (REVIEW needs a person first); CONFIRMED and REJECTED
/// are decided.
public enum OrderStatus: String, Sendable, Codable, CaseIterable {
    case pending = "PENDING"
    case review = "REVIEW"
    case confirmed = "CONFIRMED"
    case rejected = "REJECTED"

    public var isOpen: Bool { self == .pending || self == .review }
}

/// An order as stored, with its lines and the turns it came from.
public struct StoredOrder: Sendable, Codable {
    public struct Source: Sendable, Codable {
        public var turnKey: String
        public var messageIDs: [UUID]
        public var appliedAt: Date
    }
    public var id: UUID
    public var tenantID: UUID
    public var conversationID: UUID?
    public var status: OrderStatus
    public var requiresReview: Bool
    public var confidence: Double
    public var isValid: Bool
    public var totalCents: Int
    public var currency: String?
    public var warnings: [String]
    public var unmatched: [UnmatchedItem]
    /// "text" or "catalog".
    public var source: String
    public var version: Int
    public var createdAt: Date
    public var updatedAt: Date
    public var decidedAt: Date?
    public var decidedBy: String?
    public var lines: [OrderLine]
    public var sources: [Source]
}
