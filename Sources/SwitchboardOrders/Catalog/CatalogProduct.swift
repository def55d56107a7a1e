public import Foundation

/// A product as order extraction sees it: what it is called, how it is sold, what it costs.
public struct CatalogProduct: Sendable, Hashable, Codable {
    /// The stored row's id; nil for a catalogue read from a file.
    public var id: UUID?
    public var sku: String
    public var name: String
    public var aliases: [String]
    /// The unit one is sold in (kg, box, bag, unit, dozen, liter, bottle, can, pack, sack).
    public var unit: String
    /// What one selling unit holds, or the case it comes in ("box=18kg", "can=5 L").
    public var pack: String?
    /// Price of one selling unit in cents; nil when the catalogue has none.
    public var priceCents: Int?
    public var category: String?

    public init(
        id: UUID? = nil, sku: String, name: String, aliases: [String] = [], unit: String, pack: String? = nil, priceCents: Int? = nil,
        category: String? = nil
    ) {
        (self.id, self.sku, self.name, self.aliases, self.unit, self.pack, self.priceCents, self.category) =
            (id, sku, name, aliases, unit, pack, priceCents, category)
    }

    /// "1.60" → 160; nil for empty or malformed text.
    public static func cents(_ text: String?) -> Int? {
        guard let text, !text.isEmpty else { return nil }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = Int(parts[0]) else { return nil }
        var fraction = 0
        if parts.count == 2 {
            let digits = String(parts[1].prefix(2)).padding(toLength: 2, withPad: "0", startingAt: 0)
            guard let f = Int(digits) else { return nil }
            fraction = f
        }
        return whole * 100 + (text.hasPrefix("-") ? -fraction : fraction)
    }
}
