import CSV
import Crypto
import Foundation

/// A labelled text from a training or evaluation file, with the entity the file annotates in it (if any).
public struct LabelledText: Sendable {
    public var text: String
    public var intent: String
    public var entityType: String?
    public var entityValue: String?

    public init(text: String, intent: String, entityType: String? = nil, entityValue: String? = nil) {
        self.text = text
        self.intent = intent
        self.entityType = entityType
        self.entityValue = entityValue
    }
}

/// Reads intent data: a CSV with a header, a text column (`text`, `instruction` or `question`) and an `intent` column,
/// optionally `entity_type` and `entity_value` (the Bitext layout); and out-of-scope queries as a JSON array of
/// strings, CLINC's `{"oos_train": [[text, "oos"], …], "oos_val": …}`, or a text file with one query per line.
public enum IntentDataReader {
    public static func read(path: String) throws(IntentModelError) -> (rows: [LabelledText], sha256: String) {
        guard let data = FileManager.default.contents(atPath: path) else { throw .badData("\(path): cannot be read") }
        guard let text = String(data: data, encoding: .utf8) else { throw .badData("\(path): is not UTF-8") }
        let reader: CSVReader
        do { reader = try CSVReader(string: text, hasHeaderRow: true) } catch { throw .badData("\(path): is not a CSV file with a header row") }
        let header = (reader.headerRow ?? []).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard let textColumn = ["text", "instruction", "question"].lazy.compactMap({ header.firstIndex(of: $0) }).first else {
            throw .badData("\(path): needs a `text`, `instruction` or `question` column (found: \(header.joined(separator: ", ")))")
        }
        guard let intentColumn = header.firstIndex(of: "intent") else { throw .badData("\(path): needs an `intent` column") }
        let typeColumn = header.firstIndex(of: "entity_type")
        let valueColumn = header.firstIndex(of: "entity_value")
        var rows: [LabelledText] = []
        var line = 1
        while let row = reader.next() {
            line += 1
            guard row.count > max(textColumn, intentColumn) else { throw .badData("\(path):\(line): has \(row.count) fields, fewer than the header") }
            let intent = row[intentColumn].trimmingCharacters(in: .whitespaces)
            let body = row[textColumn].trimmingCharacters(in: .whitespacesAndNewlines)
            guard !intent.isEmpty, !body.isEmpty else { throw .badData("\(path):\(line): empty text or intent") }
            let type = typeColumn.flatMap { $0 < row.count ? row[$0] : nil }.flatMap { $0.isEmpty ? nil : $0 }
            let value = valueColumn.flatMap { $0 < row.count ? row[$0] : nil }.flatMap { $0.isEmpty ? nil : $0 }
            rows.append(LabelledText(text: body, intent: intent, entityType: type, entityValue: value))
        }
        guard !rows.isEmpty else { throw .badData("\(path): has no rows") }
        return (rows, IntentModelFile.sha256(data))
    }

    /// Out-of-scope queries, split as the file splits them (CLINC's `oos_train` / `oos_val`; otherwise all in `train`).
    public static func readOutOfScope(path: String) throws(IntentModelError) -> (train: [String], validation: [String], sha256: String) {
        guard let data = FileManager.default.contents(atPath: path) else { throw .badData("\(path): cannot be read") }
        let sha = IntentModelFile.sha256(data)
        if let list = try? JSONDecoder().decode([String].self, from: data) { return (list, [], sha) }
        if let clinc = try? JSONDecoder().decode([String: [[String]]].self, from: data) {
            let train = (clinc["oos_train"] ?? []).compactMap(\.first)
            let validation = (clinc["oos_val"] ?? []).compactMap(\.first)
            guard !train.isEmpty || !validation.isEmpty else { throw .badData("\(path): no `oos_train` or `oos_val` lists") }
            return (train, validation, sha)
        }
        guard let text = String(data: data, encoding: .utf8), !text.hasPrefix("{"), !text.hasPrefix("[") else {
            throw .badData("\(path): expected a JSON array of strings, CLINC's oos_train/oos_val object, or one query per line")
        }
        return (text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }, [], sha)
    }
}
