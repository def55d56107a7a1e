/// Why an extraction needs a person's eye. The platform's rules: overall confidence below 0.8, a line below 0.7,
/// a missing or non-positive price; plus ambiguous lines and products the catalogue lacks.
public enum OrderWarning: Sendable, Codable, Hashable, CustomStringConvertible {
    case lowOverallConfidence(Double)
    case lowLineConfidence(line: Int, Double)
    case missingPrice(line: Int)
    case ambiguousLine(line: Int)
    case unmatchedProducts(count: Int)

    public var description: String {
        switch self {
        case .lowOverallConfidence(let c): "overall confidence \(Self.format(c)) is below 0.8"
        case .lowLineConfidence(let line, let c): "line \(line) has confidence \(Self.format(c)), below 0.7"
        case .missingPrice(let line): "line \(line) has no price for its unit in the catalogue"
        case .ambiguousLine(let line): "line \(line) fits several products: choose one"
        case .unmatchedProducts(let count): "\(count) product\(count == 1 ? "" : "s") not in the catalogue"
        }
    }

    static func format(_ value: Double) -> String { String(Double(Int((value * 100).rounded())) / 100) }
}

/// The answer for one turn: is it an order, its lines, what the catalogue lacks, and whether a person must look.
public struct OrderExtraction: Sendable, Codable, Hashable {
    /// The turn asks for goods (or changes an open order).
    public var isOrder: Bool
    public var lines: [OrderLine]
    public var unmatched: [UnmatchedItem]
    public var warnings: [OrderWarning]
    /// Mean of the lines' confidences, 0…1; 0 with no lines.
    public var confidence: Double
    /// Invalid only with a warning and overall confidence ≤ 0.6 (the platform's rule).
    public var isValid: Bool
    public var requiresReview: Bool
    /// Sum of the priced lines.
    public var totalCents: Int

    /// "No products extracted": an order with nothing matched.
    public var isEmpty: Bool { lines.isEmpty }

    public init(isOrder: Bool, lines: [OrderLine], unmatched: [UnmatchedItem]) {
        self.isOrder = isOrder
        self.lines = lines
        self.unmatched = unmatched
        let confidence = lines.isEmpty ? 0 : lines.map(\.confidence).reduce(0, +) / Double(lines.count)
        self.confidence = confidence
        var warnings: [OrderWarning] = []
        if !lines.isEmpty, confidence < 0.8 { warnings.append(.lowOverallConfidence(confidence)) }
        for (n, line) in lines.enumerated() {
            if line.isAmbiguous { warnings.append(.ambiguousLine(line: n + 1)) }
            if line.confidence < 0.7 { warnings.append(.lowLineConfidence(line: n + 1, line.confidence)) }
            if !line.isAmbiguous, (line.unitPriceCents ?? 0) <= 0 { warnings.append(.missingPrice(line: n + 1)) }
        }
        if !unmatched.isEmpty { warnings.append(.unmatchedProducts(count: unmatched.count)) }
        self.warnings = warnings
        self.isValid = !(!warnings.isEmpty && confidence <= 0.6)
        self.requiresReview = !warnings.isEmpty || (isOrder && lines.isEmpty)
        self.totalCents = lines.compactMap(\.totalCents).reduce(0, +)
    }
}
