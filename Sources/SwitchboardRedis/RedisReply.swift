/// A RESP2 reply, copied out of hiredis into Swift values.
public enum RedisReply: Sendable, Hashable {
    /// `+OK` and other simple strings.
    case status(String)
    /// `-ERR …`: the server refused the command. Pipelines return it in place; ``RedisConnection/command(_:)`` throws it.
    case error(String)
    case integer(Int64)
    /// A bulk string, binary-safe.
    case bulk([UInt8])
    case array([RedisReply])
    /// A nil bulk string or nil array.
    case null

    /// The bulk or status payload as UTF-8 text, or nil.
    public var string: String? {
        switch self {
        case .bulk(let b): return String(decoding: b, as: UTF8.self)
        case .status(let s): return s
        default: return nil
        }
    }

    /// The integer, or a bulk string that holds one (Lua scripts often return numbers as strings).
    public var int: Int64? {
        switch self {
        case .integer(let i): return i
        case .bulk(let b): return Int64(String(decoding: b, as: UTF8.self))
        default: return nil
        }
    }

    public var bytes: [UInt8]? {
        if case .bulk(let b) = self { return b }
        return nil
    }

    public var array: [RedisReply]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var isNull: Bool { self == .null }
}

/// One command argument: raw bytes, so binary values (NUL bytes included) pass unchanged.
public struct RedisArgument: Sendable, Hashable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    public var bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }
    public init(_ string: String) { self.bytes = Array(string.utf8) }
    public init<I: BinaryInteger>(_ value: I) { self.bytes = Array(String(value).utf8) }
    public init(stringLiteral value: String) { self.init(value) }
    public init(integerLiteral value: Int) { self.init(value) }

    public static func string(_ s: String) -> RedisArgument { RedisArgument(s) }
    public static func int<I: BinaryInteger>(_ i: I) -> RedisArgument { RedisArgument(i) }
    public static func bytes(_ b: [UInt8]) -> RedisArgument { RedisArgument(bytes: b) }
    public static func double(_ d: Double) -> RedisArgument { RedisArgument("\(d)") }
}
