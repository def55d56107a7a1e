/// A product named in a clause: the tokens, the products the words fit, and how well.
struct Mention: Sendable {
    var start: Int
    var end: Int
    var products: [Int]
    /// A whole name or alias (possibly after a typo correction); false for part of one or a category word.
    var exact: Bool
    var fuzzy: Bool
    var text: String
    /// A unit word inside the alias ("tray of eggs").
    var unitInside: (unit: String, factor: Double)?
    var size: String?
    var quantity: Quantity?
    /// "no cebolla", "forget the onions".
    var negated = false
}

/// A quantity written in a clause: "5 kg", "dos cajas", "half a dozen", "x2", "a".
struct Quantity: Sendable {
    var start: Int
    var end: Int
    var value: Double
    var unit: String?
    /// "5 de zanahoria": a number followed by "de"/"of" and no unit (the unit is the previous line's).
    var ofMarker = false
    /// "1 more sack".
    var addCue = false
    var isSize = false
    var claimed = false

    var isMeasure: Bool { unit.map { OrderLexicon.measureUnits.contains($0) } ?? false }
}

/// What one clause says: its products with their quantities, quantities with no known product, unknown product
/// words, and the cues (question, complaint, correction, cancellation, addition, restatement).
struct ClauseReading: Sendable {
    var mentions: [Mention] = []
    /// Quantities no product took (a correction "make it 6", or an unknown product's).
    var looseQuantities: [Quantity] = []
    var unmatched: [(text: String, quantity: Quantity?)] = []
    var complaint = false
    var correction = false
    var cancel = false
    var addition = false
    var restate = false
    var orderCue = false
    var requestVerb = false
    var inquiry = false
    /// Only products, quantities and courtesy words: an item of a list ("cilantro").
    var bareItem = true
}
