/// Entity recall against annotated values, by type.
///
/// Annotations name a type and a value, not a trustworthy span (the Bitext offsets are noisy, and some values are
/// cut short: "order 00004587345" is annotated `4587345`, "$160" is annotated `1`). A finding of the mapped kind
/// matches when, with `#`, currency signs, separators and leading zeros removed and letters folded, one value contains
/// the other.
public struct EntityRecall: Sendable, Codable {
    public struct Count: Sendable, Codable {
        public var found: Int
        public var total: Int
        public var recall: Double
    }

    public var byType: [String: Count]
    /// Up to five missed annotations per type: the text, the annotated value, what was found.
    public var misses: [String: [String]]

    /// Annotation types and the extractor's kinds that answer them.
    public static let kinds: [String: Entity.Kind] = [
        "order_id": .orderID, "invoice_id": .invoiceID, "refund_amount": .amount, "amount": .amount, "person_name": .personName,
        "delivery_city": .city, "city": .city, "delivery_country": .country, "country": .country, "email": .email, "phone": .phone,
        "date": .date,
    ]

    public init(rows: [LabelledText], extractor: EntityExtractor) {
        var counts: [String: (Int, Int)] = [:]
        var misses: [String: [String]] = [:]
        for row in rows {
            guard let type = row.entityType, let value = row.entityValue, let kind = Self.kinds[type] else { continue }
            let found = extractor.extract(row.text).filter { $0.kind == kind }
            let hit = found.contains { Self.matches(annotated: value, found: $0) }
            if !hit, misses[type, default: []].count < 5 {
                misses[type, default: []].append("\(row.text) | \(value) | \(found.map(\.value).joined(separator: ", "))")
            }
            counts[type, default: (0, 0)].0 += hit ? 1 : 0
            counts[type, default: (0, 0)].1 += 1
        }
        self.misses = misses
        byType = counts.mapValues { Count(found: $0.0, total: $0.1, recall: IntentMetrics.round(Double($0.0) / Double(max(1, $0.1)))) }
    }

    public static func matches(annotated: String, found: Entity) -> Bool {
        let a = normalise(annotated)
        let candidates = [normalise(found.value), normalise(found.text)]
        return candidates.contains { b in !a.isEmpty && !b.isEmpty && (a.contains(b) || b.contains(a)) }
    }

    static func normalise(_ value: String) -> String {
        let kept = value.lowercased().filter { $0.isLetter || $0.isNumber }
        let trimmed = kept.drop { $0 == "0" }
        return trimmed.isEmpty ? String(kept) : String(trimmed)
    }
}
