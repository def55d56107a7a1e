/// A value found in a turn, with where it is (offsets in Unicode scalars, end exclusive).
public struct Entity: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case orderID = "order_id"
        case invoiceID = "invoice_id"
        case amount
        case email
        case phone
        case personName = "person_name"
        case city
        case country
        case date
        case cardNumber = "card_number"

        /// Personal data: never logged, redacted by `PIIRedactor`.
        public var isPersonal: Bool { self == .email || self == .phone || self == .personName || self == .cardNumber }
    }

    public var kind: Kind
    /// The text as the customer wrote it.
    public var text: String
    /// The normalised value: an id without `#`, an amount as a decimal number, a phone in E.164 when its country is
    /// known, an email in lower case, a place's canonical name, an ISO date when the text gives one.
    public var value: String
    /// ISO 4217 code of an amount.
    public var currency: String?
    public var start: Int
    public var end: Int

    public init(kind: Kind, text: String, value: String, currency: String? = nil, start: Int, end: Int) {
        self.kind = kind
        self.text = text
        self.value = value
        self.currency = currency
        self.start = start
        self.end = end
    }
}
