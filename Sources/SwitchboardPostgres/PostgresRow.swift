public import FoundationEssentials

/// The rows a query returned, decoded lazily by column name.
public struct PostgresRows: Sendable, Sequence {
    /// Column names, in select-list order.
    public let columns: [String]
    let types: [UInt32]
    let cells: [[[UInt8]?]]
    /// Rows changed by an INSERT/UPDATE/DELETE (0 for a SELECT).
    public let affectedRows: Int

    public var count: Int { cells.count }
    public var isEmpty: Bool { cells.isEmpty }
    public var first: PostgresRow? { cells.isEmpty ? nil : self[0] }

    public subscript(index: Int) -> PostgresRow { PostgresRow(rows: self, index: index) }

    public func makeIterator() -> some IteratorProtocol<PostgresRow> {
        (0..<cells.count).lazy.map { PostgresRow(rows: self, index: $0) }.makeIterator()
    }
}

/// One row. Decode a column with ``decode(_:as:)`` or ``decodeIfPresent(_:as:)``.
public struct PostgresRow: Sendable {
    let rows: PostgresRows
    let index: Int

    /// The value of `column`, which must not be NULL.
    /// - Throws: ``PostgresError/Code/decoding`` naming the column when it is missing, NULL, or of another type.
    public func decode<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        guard let value = try decodeIfPresent(column, as: type) else {
            throw PostgresError(.decoding, "column \"\(column)\" is NULL but \(T.self) was expected; decode it as an optional")
        }
        return value
    }

    /// The value of `column`, or nil when it is NULL.
    public func decodeIfPresent<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T? {
        guard let c = rows.columns.firstIndex(of: column) else {
            throw PostgresError(.decoding, "no column \"\(column)\" in the result (columns: \(rows.columns.joined(separator: ", ")))")
        }
        guard let bytes = rows.cells[index][c] else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let value = T(postgresText: text, type: rows.types[c]) else {
            throw PostgresError(.decoding, "column \"\(column)\" (type oid \(rows.types[c])) cannot be decoded as \(T.self)")
        }
        return value
    }

    /// True when `column` is NULL.
    public func isNull(_ column: String) -> Bool {
        guard let c = rows.columns.firstIndex(of: column) else { return true }
        return rows.cells[index][c] == nil
    }
}

/// A Swift type that can be read from a column's text form.
public protocol PostgresDecodable: Sendable {
    /// Returns nil when `text` (of type OID `type`) is not a valid value of this type.
    init?(postgresText text: String, type: UInt32)
}

extension String: PostgresDecodable {
    /// Any column as its text form (numeric as exact digits, jsonb as JSON text, uuid lowercase).
    public init?(postgresText text: String, type: UInt32) { self = text }
}

extension Int64: PostgresDecodable {
    public init?(postgresText text: String, type: UInt32) {
        guard [PostgresType.int2, PostgresType.int4, PostgresType.int8, PostgresType.oid].contains(type) else { return nil }
        self.init(text)
    }
}

extension Int: PostgresDecodable {
    public init?(postgresText text: String, type: UInt32) {
        guard let v = Int64(postgresText: text, type: type) else { return nil }
        self = Int(v)
    }
}

extension Int32: PostgresDecodable {
    public init?(postgresText text: String, type: UInt32) {
        guard let v = Int64(postgresText: text, type: type) else { return nil }
        self.init(exactly: v)
    }
}

extension Bool: PostgresDecodable {
    public init?(postgresText text: String, type: UInt32) {
        guard type == PostgresType.bool else { return nil }
        switch text {
        case "t": self = true
        case "f": self = false
        default: return nil
        }
    }
}

extension Double: PostgresDecodable {
    public init?(postgresText text: String, type: UInt32) {
        switch type {
        case PostgresType.float4, PostgresType.float8, PostgresType.numeric, PostgresType.int2, PostgresType.int4, PostgresType.int8:
            switch text {
            case "NaN": self = .nan
            case "Infinity": self = .infinity
            case "-Infinity": self = -.infinity
            default: self.init(text)
            }
        default: return nil
        }
    }
}

extension Decimal: PostgresDecodable {
    /// `numeric` exactly (NaN and infinities have no Decimal form and fail to decode).
    public init?(postgresText text: String, type: UInt32) {
        guard [PostgresType.numeric, PostgresType.int2, PostgresType.int4, PostgresType.int8].contains(type),
            text.first.map({ $0 == "-" || $0.isNumber }) == true
        else { return nil }
        self.init(string: text)
    }
}

extension Date: PostgresDecodable {
    /// `timestamptz` (or `timestamp`, read as UTC).
    public init?(postgresText text: String, type: UInt32) {
        guard type == PostgresType.timestamptz || type == PostgresType.timestamp, let d = PostgresTimestamp.parse(text) else { return nil }
        self = d
    }
}

extension UUID: PostgresDecodable {
    public init?(postgresText text: String, type: UInt32) {
        guard type == PostgresType.uuid || type == PostgresType.text else { return nil }
        self.init(uuidString: text)
    }
}

extension Array: PostgresDecodable where Element == String {
    /// `text[]` / `varchar[]`; fails on NULL elements and on nested arrays.
    public init?(postgresText text: String, type: UInt32) {
        guard type == PostgresType.textArray || type == PostgresType.varcharArray else { return nil }
        guard let items = PostgresArrayLiteral.parse(text) else { return nil }
        self = items
    }
}

/// The `jsonb`/`json` column's text, kept apart from `String` so call sites say what they expect.
public struct PostgresJSON: PostgresDecodable, Hashable {
    public let text: String
    public init?(postgresText text: String, type: UInt32) {
        guard type == PostgresType.jsonb || type == PostgresType.json else { return nil }
        self.text = text
    }
}

/// `bytea` in hex output form.
public struct PostgresBytes: PostgresDecodable, Hashable {
    public let bytes: [UInt8]
    public init?(postgresText text: String, type: UInt32) {
        guard type == PostgresType.bytea, text.hasPrefix("\\x") else { return nil }
        var out: [UInt8] = []
        let hex = Array(text.utf8.dropFirst(2))
        guard hex.count % 2 == 0 else { return nil }
        out.reserveCapacity(hex.count / 2)
        var i = 0
        while i < hex.count {
            guard let hi = hexValue(hex[i]), let lo = hexValue(hex[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        bytes = out
    }
}

private func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case 48...57: return c - 48
    case 97...102: return c - 87
    case 65...70: return c - 55
    default: return nil
    }
}

/// Parses a one-dimensional array literal such as `{a,"b c","d\"e"}`.
enum PostgresArrayLiteral {
    static func parse(_ text: String) -> [String]? {
        var chars = Array(text.unicodeScalars)[...]
        guard chars.popFirst() == "{", chars.popLast() == "}" else { return nil }
        if chars.isEmpty { return [] }
        var items: [String] = []
        while true {
            var item = String.UnicodeScalarView()
            if chars.first == "\"" {
                chars.removeFirst()
                var closed = false
                while let c = chars.popFirst() {
                    if c == "\\" {
                        guard let next = chars.popFirst() else { return nil }
                        item.append(next)
                    } else if c == "\"" {
                        closed = true
                        break
                    } else {
                        item.append(c)
                    }
                }
                guard closed else { return nil }
            } else {
                while let c = chars.first, c != "," {
                    if c == "{" || c == "\"" { return nil }
                    item.append(c)
                    chars.removeFirst()
                }
                if String(item) == "NULL" { return nil }
            }
            items.append(String(item))
            guard let sep = chars.popFirst() else { return items }
            guard sep == "," else { return nil }
        }
    }
}
