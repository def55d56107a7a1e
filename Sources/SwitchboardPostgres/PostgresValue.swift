public import FoundationEssentials

/// A value bound to a `$n` parameter. Values always travel separately from the SQL text,
/// so no input can change the statement.
public enum PostgresValue: Sendable, Hashable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByNilLiteral
{
    case null
    /// Text; PostgreSQL infers the parameter's type from context (text, varchar, citext, enums).
    case text(String)
    case int(Int64)
    case bool(Bool)
    case double(Double)
    /// `numeric`, exact.
    case decimal(Decimal)
    /// `timestamptz`, sent in UTC with microseconds.
    case timestamp(Date)
    case uuid(UUID)
    /// `jsonb`, as JSON text.
    case jsonb(String)
    /// `text[]`.
    case textArray([String])
    /// `bytea`.
    case bytea([UInt8])

    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int) { self = .int(Int64(value)) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(nilLiteral: ()) { self = .null }

    /// The PostgreSQL type OID sent with the parameter (0 lets the server infer it).
    var typeOID: UInt32 {
        switch self {
        case .null, .text: return 0
        case .int: return PostgresType.int8
        case .bool: return PostgresType.bool
        case .double: return PostgresType.float8
        case .decimal: return PostgresType.numeric
        case .timestamp: return PostgresType.timestamptz
        case .uuid: return PostgresType.uuid
        case .jsonb: return PostgresType.jsonb
        case .textArray: return PostgresType.textArray
        case .bytea: return PostgresType.bytea
        }
    }

    /// The text-format bytes libpq sends (NUL-terminated by the caller), or nil for SQL NULL.
    /// - Throws: ``PostgresError/Code/invalidParameter`` for text holding a NUL byte.
    func textEncoding(parameter index: Int) throws -> [UInt8]? {
        func noNUL(_ s: String, _ kind: String) throws -> [UInt8] {
            let bytes = Array(s.utf8)
            if bytes.contains(0) {
                throw PostgresError(
                    .invalidParameter,
                    "parameter $\(index) (\(kind)) contains a NUL byte (0x00), which PostgreSQL \(kind) cannot store; strip it, or bind the value as bytea"
                )
            }
            return bytes
        }
        switch self {
        case .null: return nil
        case .text(let s): return try noNUL(s, "text")
        case .int(let i): return Array(String(i).utf8)
        case .bool(let b): return Array((b ? "t" : "f").utf8)
        case .double(let d):
            if d.isNaN { return Array("NaN".utf8) }
            if d.isInfinite { return Array((d < 0 ? "-Infinity" : "Infinity").utf8) }
            return Array("\(d)".utf8)
        case .decimal(let d): return Array(d.description.utf8)
        case .timestamp(let date): return Array(PostgresTimestamp.format(date).utf8)
        case .uuid(let u): return Array(u.uuidString.utf8)
        case .jsonb(let json): return try noNUL(json, "jsonb")
        case .textArray(let items):
            var out = "{"
            for (i, item) in items.enumerated() {
                _ = try noNUL(item, "text[] element")
                if i > 0 { out += "," }
                out += "\"" + item.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\""
            }
            return Array((out + "}").utf8)
        case .bytea(let bytes):
            let digits = Array("0123456789abcdef".utf8)
            var out: [UInt8] = Array("\\x".utf8)
            out.reserveCapacity(2 + bytes.count * 2)
            for b in bytes {
                out.append(digits[Int(b >> 4)])
                out.append(digits[Int(b & 0xF)])
            }
            return out
        }
    }
}

/// Type OIDs from `pg_type` that the client encodes or decodes.
enum PostgresType {
    static let bool: UInt32 = 16
    static let bytea: UInt32 = 17
    static let int8: UInt32 = 20
    static let int2: UInt32 = 21
    static let int4: UInt32 = 23
    static let text: UInt32 = 25
    static let oid: UInt32 = 26
    static let json: UInt32 = 114
    static let float4: UInt32 = 700
    static let float8: UInt32 = 701
    static let textArray: UInt32 = 1009
    static let varcharArray: UInt32 = 1015
    static let bpchar: UInt32 = 1042
    static let varchar: UInt32 = 1043
    static let timestamp: UInt32 = 1114
    static let timestamptz: UInt32 = 1184
    static let numeric: UInt32 = 1700
    static let uuid: UInt32 = 2950
    static let jsonb: UInt32 = 3802
}
