public import FoundationEssentials

/// How a line's product was found.
public enum MatchKind: String, Sendable, Codable, Hashable {
    /// A WhatsApp catalogue order named the SKU.
    case catalogueOrder = "catalogue-order"
    /// The words are a name or alias of exactly one product.
    case exact
    /// A name or alias, after correcting a typo by edit distance ("sebolla" → "cebolla").
    case corrected
    /// Part of a name or alias that only one product has ("roma"), or that a unit word or size narrowed to one
    /// ("a sack of rice", "the 1L olive oil").
    case partial
    /// Trigram similarity in PostgreSQL (pg_trgm) over names and aliases, with the embedded sentence model.
    case similar
    /// Several products fit equally; a person chooses.
    case ambiguous
    /// Set by a person (`switchboard orders set-line`).
    case person
}

/// One order line: what the customer asked for, how much, and the product it was matched to (or the candidates
/// when the words fit several).
public struct OrderLine: Sendable, Codable, Hashable {
    /// The product's SKU; nil for an ambiguous line.
    public var sku: String?
    public var productID: UUID?
    /// The product's name, or the customer's words for an ambiguous line.
    public var name: String
    /// The customer's words for the product.
    public var text: String
    public var quantity: Double
    /// The unit the customer ordered in; nil on an ambiguous line whose candidates are sold in different units and
    /// no unit was written.
    public var unit: String?
    /// Price of one `unit` from the catalogue (converted through the pack: a box of an 18 kg case is 18 × the kg
    /// price); nil when the catalogue has no price for that unit.
    public var unitPriceCents: Int?
    public var confidence: Double
    public var match: MatchKind
    /// SKUs a person chooses from, for an ambiguous line (best first); empty otherwise.
    public var candidates: [String]

    public init(
        sku: String?, productID: UUID? = nil, name: String, text: String, quantity: Double, unit: String?, unitPriceCents: Int? = nil,
        confidence: Double, match: MatchKind, candidates: [String] = []
    ) {
        (self.sku, self.productID, self.name, self.text, self.quantity, self.unit, self.unitPriceCents, self.confidence, self.match) =
            (sku, productID, name, text, quantity, unit, unitPriceCents, confidence, match)
        self.candidates = candidates
    }

    public var isAmbiguous: Bool { sku == nil }

    /// quantity × unit price, rounded to the cent; nil without a price.
    public var totalCents: Int? { unitPriceCents.map { Int((Double($0) * quantity).rounded()) } }
}

/// Product words the customer ordered that the catalogue does not carry ("kale", "quail eggs"), with what was
/// asked and the nearest products as suggestions for a person.
public struct UnmatchedItem: Sendable, Codable, Hashable {
    public var text: String
    public var quantity: Double?
    public var unit: String?
    public var suggestions: [String]

    public init(text: String, quantity: Double? = nil, unit: String? = nil, suggestions: [String] = []) {
        (self.text, self.quantity, self.unit, self.suggestions) = (text, quantity, unit, suggestions)
    }
}
