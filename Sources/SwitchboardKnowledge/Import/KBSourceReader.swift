import CSV
import Foundation
import SwitchboardJSON
import Yams

/// Reads help-center entries from a folder or a file: Markdown with front matter (`.md`), CSV (`.csv`) or a JSON
/// array (`.json`). Every entry is checked before anything is returned, so an import either has all of them or
/// stops at the first bad one with its file, line and field.
///
/// - Markdown: front matter between `---` lines with `title` (required), `id` (default: the file name without
///   `.md`), `tags` or `keywords` (a list), and optionally `type`, `category`, `priority`, `active`, `language`;
///   other fields are kept as metadata. The body follows.
/// - CSV: a header row with `id`, `title`, `content` and optionally `tags`/`keywords` (`|`-separated), `type`,
///   `category`, `priority`, `active`, `language`.
/// - JSON: an array of objects with the CSV's fields (`tags` a list).
public enum KBSourceReader {
    public static func read(path: String) throws(KnowledgeImportError) -> [KBEntry] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw KnowledgeImportError(file: path, "no such file or folder")
        }
        var entries: [KBEntry] = []
        if isDirectory.boolValue {
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
            let files = names.filter { $0.hasSuffix(".md") || $0.hasSuffix(".csv") || $0.hasSuffix(".json") }
            guard !files.isEmpty else { throw KnowledgeImportError(file: path, "has no .md, .csv or .json files") }
            for name in files { entries += try readFile(path + "/" + name) }
        } else {
            entries = try readFile(path)
        }
        var seen: [String: String] = [:]
        for entry in entries {
            if let first = seen[entry.externalID] {
                throw KnowledgeImportError(file: entry.source, field: "id", "id \"\(entry.externalID)\" is also used by \(first)")
            }
            seen[entry.externalID] = entry.source
        }
        return entries
    }

    static func readFile(_ path: String) throws(KnowledgeImportError) -> [KBEntry] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw KnowledgeImportError(file: path, "cannot be read as UTF-8 text")
        }
        if path.hasSuffix(".md") { return [try markdown(text, path: path)] }
        if path.hasSuffix(".csv") { return try csv(text, path: path) }
        if path.hasSuffix(".json") { return try json(text, path: path) }
        throw KnowledgeImportError(file: path, "is not .md, .csv or .json")
    }

    /// One Markdown article with YAML front matter.
    static func markdown(_ text: String, path: String) throws(KnowledgeImportError) -> KBEntry {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
        guard lines.first == "---", let end = lines.dropFirst().firstIndex(of: "---") else {
            throw KnowledgeImportError(file: path, line: 1, "must start with front matter between two `---` lines (with at least `title:`)")
        }
        let yaml = lines[1..<end].joined(separator: "\n")
        let loaded: Any?
        do { loaded = try Yams.load(yaml: yaml) } catch {
            throw KnowledgeImportError(file: path, line: 2, "the front matter is not valid YAML")
        }
        guard let fields = loaded as? [String: Any] else {
            throw KnowledgeImportError(file: path, line: 2, "the front matter must be a map of fields")
        }
        func lineOf(_ key: String) -> Int { (lines[1..<end].firstIndex { $0.hasPrefix(key + ":") } ?? 0) + 1 }
        let fileName = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let body = lines[(end + 1)...].joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        var values: [String: FieldValue] = [:]
        for (key, value) in fields {
            if let list = value as? [Any] {
                values[key] = .list(list.map { "\($0)" })
            } else {
                values[key] = .text("\(value)")
            }
        }
        return try entry(values, content: body, defaultID: fileName, slug: fileName, path: path, line: lineOf)
    }

    static func csv(_ text: String, path: String) throws(KnowledgeImportError) -> [KBEntry] {
        let reader: CSVReader
        do { reader = try CSVReader(string: text, hasHeaderRow: true) } catch {
            throw KnowledgeImportError(file: path, line: 1, "has no header row")
        }
        let header = (reader.headerRow ?? []).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        for required in ["id", "title", "content"] where !header.contains(required) {
            throw KnowledgeImportError(file: path, line: 1, field: required, "the header lacks the column `\(required)`")
        }
        var entries: [KBEntry] = []
        var line = 1
        while let row = reader.next() {
            line += 1
            guard row.count == header.count else {
                throw KnowledgeImportError(file: path, line: line, "has \(row.count) fields, the header \(header.count)")
            }
            var values: [String: FieldValue] = [:]
            for (key, value) in zip(header, row) where !value.isEmpty {
                values[key] = key == "tags" || key == "keywords" ? .list(value.split(separator: "|").map(String.init)) : .text(value)
            }
            let rowLine = line
            entries.append(try entry(values, content: values["content"]?.text ?? "", defaultID: nil, slug: nil, path: path, line: { _ in rowLine }))
        }
        if let error = reader.error { throw KnowledgeImportError(file: path, line: line + 1, "is not valid CSV (\(error))") }
        return entries
    }

    static func json(_ text: String, path: String) throws(KnowledgeImportError) -> [KBEntry] {
        guard case .array(let items)? = try? JSONValue.parse(Array(text.utf8)) else {
            throw KnowledgeImportError(file: path, "must be a JSON array of objects with id, title and content")
        }
        var entries: [KBEntry] = []
        for (index, item) in items.enumerated() {
            guard case .object(let object) = item else {
                throw KnowledgeImportError(file: path, field: "[\(index)]", "element \(index) is not an object")
            }
            var values: [String: FieldValue] = [:]
            for (key, value) in object {
                switch value {
                case .array(let list): values[key.lowercased()] = .list(list.map { $0.string ?? "\($0.number ?? 0)" })
                case .string(let s): values[key.lowercased()] = .text(s)
                case .number(let n): values[key.lowercased()] = .text(n == n.rounded() ? "\(Int(n))" : "\(n)")
                case .bool(let b): values[key.lowercased()] = .text("\(b)")
                case .null: break
                case .object: values[key.lowercased()] = .text("")
                }
            }
            entries.append(
                try entry(values, content: values["content"]?.text ?? "", defaultID: nil, slug: nil, path: "\(path) [\(index)]", line: { _ in nil }))
        }
        return entries
    }

    enum FieldValue {
        case text(String)
        case list([String])
        var text: String? { if case .text(let s) = self { s } else { nil } }
        var list: [String] {
            switch self {
            case .list(let l): l
            case .text(let s): s.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            }
        }
    }

    private static let known: Set<String> = [
        "id", "slug", "type", "title", "content", "tags", "keywords", "category", "priority", "active", "language",
    ]

    /// Checks the fields and builds the entry; `line(field)` says where a field is, for errors.
    static func entry(
        _ values: [String: FieldValue], content: String, defaultID: String?, slug: String?, path: String, line: (String) -> Int?
    ) throws(KnowledgeImportError) -> KBEntry {
        func fail(_ field: String, _ reason: String) -> KnowledgeImportError {
            KnowledgeImportError(file: path, line: line(field), field: field, reason)
        }
        guard let id = (values["id"]?.text ?? defaultID)?.trimmingCharacters(in: .whitespaces), !id.isEmpty, id.count <= 200 else {
            throw fail("id", "an entry needs an id of 1–200 characters")
        }
        guard let title = values["title"]?.text?.trimmingCharacters(in: .whitespaces), !title.isEmpty else {
            throw fail("title", "an entry needs a title")
        }
        guard !content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw fail("content", "the entry has no content") }
        let type = values["type"]?.text?.lowercased() ?? "article"
        guard KBEntry.types.contains(type) else { throw fail("type", "type must be one of \(KBEntry.types.sorted().joined(separator: ", "))") }
        var priority = 0
        if let text = values["priority"]?.text {
            guard let p = Int(text) else { throw fail("priority", "priority must be a whole number (got \"\(text)\")") }
            priority = p
        }
        var active = true
        if let text = values["active"]?.text?.lowercased() {
            guard let a = ["true": true, "yes": true, "1": true, "false": false, "no": false, "0": false][text] else {
                throw fail("active", "active must be true or false (got \"\(text)\")")
            }
            active = a
        }
        let language = values["language"]?.text?.lowercased() ?? "english"
        guard KBEntry.languages.contains(language) else {
            throw fail("language", "language must be one of \(KBEntry.languages.sorted().joined(separator: ", "))")
        }
        var metadata: [String: String] = [:]
        for (key, value) in values where !known.contains(key) {
            metadata[key] = value.text ?? value.list.joined(separator: "|")
        }
        return KBEntry(
            externalID: id, slug: values["slug"]?.text ?? slug, type: type, title: title, content: content,
            keywords: (values["tags"]?.list ?? []) + (values["keywords"]?.list ?? []), category: values["category"]?.text, priority: priority,
            active: active, metadata: metadata, language: language, source: path)
    }
}
