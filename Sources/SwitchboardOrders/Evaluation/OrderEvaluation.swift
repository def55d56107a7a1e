public import Foundation
import SwitchboardKnowledge

/// One annotated turn of an order evaluation file (JSONL; the format of ../shared/eval/orders).
public struct OrderCase: Sendable, Codable {
    public struct Line: Sendable, Codable {
        public var sku: String?
        public var text: String?
        public var quantity: Double
        public var unit: String?
        public var candidates: [String]?
    }
    public var id: String
    public var messages: [String]
    public var isOrder: Bool
    public var lines: [Line]
    public var unmatched: [String]
    public var ambiguous: Bool
    public var tags: [String]?

    enum CodingKeys: String, CodingKey {
        case id, messages, lines, unmatched, ambiguous, tags
        case isOrder = "is_order"
    }

    /// Reads every line of a JSONL file; a bad line stops with its number.
    public static func read(path: String) throws(OrderEvaluationError) -> [OrderCase] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw OrderEvaluationError("\(path) cannot be read as UTF-8 text (does the file exist?)")
        }
        var cases: [OrderCase] = []
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            do {
                cases.append(try JSONDecoder().decode(OrderCase.self, from: Data(trimmed.utf8)))
            } catch {
                throw OrderEvaluationError("\(path):\(n + 1) is not an order case (id, messages, is_order, lines, unmatched, ambiguous): \(error)")
            }
        }
        if cases.isEmpty { throw OrderEvaluationError("\(path) has no cases") }
        return cases
    }
}

public struct OrderEvaluationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Scores extractions against annotated cases by the rule in ../shared/eval/orders/README.md: lines matched one to
/// one on (sku, quantity, unit), an ambiguous gold line matched only by a flagged line with its quantity and unit;
/// is-order accuracy; the ambiguous flag per case; unmatched recall.
public struct OrderEvaluation: Sendable, Codable {
    public struct Miss: Sendable, Codable {
        public var id: String
        public var messages: [String]
        public var problems: [String]
    }
    public var cases = 0
    public var truePositives = 0
    public var falsePositives = 0
    public var falseNegatives = 0
    public var isOrderCorrect = 0
    public var goldAmbiguous = 0
    public var flaggedAmbiguous = 0
    public var flaggedAndGold = 0
    public var goldUnmatched = 0
    public var foundUnmatched = 0
    public var reportedUnmatched = 0
    public var correctReportedUnmatched = 0
    public var misses: [Miss] = []

    public init() {}

    public var precision: Double { ratio(truePositives, truePositives + falsePositives) }
    public var recall: Double { ratio(truePositives, truePositives + falseNegatives) }
    public var f1: Double { precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall) }
    public var isOrderAccuracy: Double { ratio(isOrderCorrect, cases) }
    public var ambiguousRecall: Double { ratio(flaggedAndGold, goldAmbiguous) }
    public var ambiguousPrecision: Double { ratio(flaggedAndGold, flaggedAmbiguous) }
    public var unmatchedRecall: Double { ratio(foundUnmatched, goldUnmatched) }
    public var unmatchedPrecision: Double { ratio(correctReportedUnmatched, reportedUnmatched) }

    private func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? 1 : Double(a) / Double(b) }

    public mutating func add(_ gold: OrderCase, _ predicted: OrderExtraction) {
        cases += 1
        var problems: [String] = []
        if gold.isOrder == predicted.isOrder {
            isOrderCorrect += 1
        } else {
            problems.append("is_order: expected \(gold.isOrder), got \(predicted.isOrder)")
        }
        var remaining = predicted.lines
        var tp = 0
        for line in gold.lines {
            let hit = remaining.firstIndex { p in
                guard abs(p.quantity - line.quantity) <= 0.001 else { return false }
                if let sku = line.sku { return !p.isAmbiguous && p.sku == sku && p.unit == line.unit }
                return p.isAmbiguous && (line.unit == nil || p.unit == line.unit)
            }
            if let hit {
                remaining.remove(at: hit)
                tp += 1
            } else {
                problems.append("missed \(line.sku ?? "ambiguous '\(line.text ?? "")'") \(Self.format(line.quantity)) \(line.unit ?? "-")")
            }
        }
        for p in remaining {
            problems.append("extra \(p.sku ?? "ambiguous '\(p.text)'") \(Self.format(p.quantity)) \(p.unit ?? "-")")
        }
        truePositives += tp
        falseNegatives += gold.lines.count - tp
        falsePositives += remaining.count
        let flagged = predicted.lines.contains(where: \.isAmbiguous)
        if gold.ambiguous { goldAmbiguous += 1 }
        if flagged { flaggedAmbiguous += 1 }
        if flagged && gold.ambiguous { flaggedAndGold += 1 }
        let reported = predicted.unmatched.map { TextFolding.fold($0.text) }
        for item in gold.unmatched {
            goldUnmatched += 1
            let g = TextFolding.fold(item)
            if reported.contains(where: { $0 == g || $0.contains(g) || g.contains($0) }) {
                foundUnmatched += 1
            } else {
                problems.append("unmatched '\(item)' not reported")
            }
        }
        for r in reported {
            reportedUnmatched += 1
            if gold.unmatched.map(TextFolding.fold).contains(where: { $0 == r || $0.contains(r) || r.contains($0) }) {
                correctReportedUnmatched += 1
            } else {
                problems.append("reported unmatched '\(r)'")
            }
        }
        if !problems.isEmpty { misses.append(Miss(id: gold.id, messages: gold.messages, problems: problems)) }
    }

    static func format(_ q: Double) -> String { q == q.rounded() ? String(Int(q)) : String(q) }
}
