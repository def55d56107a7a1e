/// A strict RFC 8259 parser from UTF-8 bytes to ``JSONValue``.
///
/// Written by hand because decoding an untyped value through `JSONDecoder` costs one thrown `DecodingError` (with
/// its coding path) per failed type guess: it was the largest share of the webhook receiver's CPU in a profile (figures in docs/benchmarks.md). This parser
/// validates UTF-8, rejects non-finite numbers, limits nesting, and never recurses deeper than that limit.
public struct JSONParseError: Error, Sendable, Hashable, CustomStringConvertible {
    public let offset: Int
    public let reason: String
    public var description: String { "invalid JSON at byte \(offset): \(reason)" }
}

extension JSONValue {
    /// Parses one JSON text (surrounding whitespace allowed, nothing else). `maxDepth` bounds nesting.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = 128) throws(JSONParseError) -> JSONValue {
        var parser = JSONBytesParser(bytes: bytes, maxDepth: maxDepth)
        parser.skipWhitespace()
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.at == bytes.count else { throw parser.fail("unexpected bytes after the value") }
        return value
    }
}

struct JSONBytesParser {
    let bytes: [UInt8]
    let maxDepth: Int
    var at = 0

    func fail(_ reason: String) -> JSONParseError { JSONParseError(offset: at, reason: reason) }

    mutating func skipWhitespace() {
        while at < bytes.count, bytes[at] == 0x20 || bytes[at] == 0x0A || bytes[at] == 0x0D || bytes[at] == 0x09 { at += 1 }
    }

    mutating func value(depth: Int) throws(JSONParseError) -> JSONValue {
        guard at < bytes.count else { throw fail("unexpected end of input") }
        switch bytes[at] {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw fail("unexpected character")
        }
    }

    mutating func literal(_ word: StaticString) throws(JSONParseError) {
        let count = word.utf8CodeUnitCount
        guard at + count <= bytes.count else { throw fail("unexpected end of input") }
        let matches = word.withUTF8Buffer { w in (0..<count).allSatisfy { bytes[at + $0] == w[$0] } }
        guard matches else { throw fail("unexpected character") }
        at += count
    }

    mutating func object(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= maxDepth else { throw fail("nested deeper than \(maxDepth)") }
        at += 1
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if at < bytes.count, bytes[at] == UInt8(ascii: "}") {
            at += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else { throw fail("expected a member name") }
            let key = try string()
            skipWhitespace()
            guard at < bytes.count, bytes[at] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            at += 1
            skipWhitespace()
            members[key] = try value(depth: depth)
            skipWhitespace()
            guard at < bytes.count else { throw fail("unexpected end of input") }
            if bytes[at] == UInt8(ascii: ",") {
                at += 1
                continue
            }
            if bytes[at] == UInt8(ascii: "}") {
                at += 1
                return .object(members)
            }
            throw fail("expected ',' or '}'")
        }
    }

    mutating func array(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= maxDepth else { throw fail("nested deeper than \(maxDepth)") }
        at += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if at < bytes.count, bytes[at] == UInt8(ascii: "]") {
            at += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try value(depth: depth))
            skipWhitespace()
            guard at < bytes.count else { throw fail("unexpected end of input") }
            if bytes[at] == UInt8(ascii: ",") {
                at += 1
                continue
            }
            if bytes[at] == UInt8(ascii: "]") {
                at += 1
                return .array(elements)
            }
            throw fail("expected ',' or ']'")
        }
    }

    mutating func string() throws(JSONParseError) -> String {
        at += 1  // the opening quote
        let start = at
        // Fast path: no escapes. Control characters are invalid; UTF-8 is validated when the String is made.
        while at < bytes.count, bytes[at] != UInt8(ascii: "\""), bytes[at] != UInt8(ascii: "\\") {
            guard bytes[at] >= 0x20 else { throw fail("a control character inside a string") }
            at += 1
        }
        guard at < bytes.count else { throw fail("an unterminated string") }
        var out = Array(bytes[start..<at])
        while bytes[at] != UInt8(ascii: "\"") {
            // bytes[at] is a backslash
            at += 1
            guard at < bytes.count else { throw fail("an unterminated string") }
            let escaped = bytes[at]
            at += 1
            switch escaped {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escaped)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800...0xDBFF).contains(scalar) {
                    guard at + 1 < bytes.count, bytes[at] == UInt8(ascii: "\\"), bytes[at + 1] == UInt8(ascii: "u") else {
                        throw fail("a lone high surrogate")
                    }
                    at += 2
                    let low = try hex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw fail("a high surrogate without its low half") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw fail("a lone low surrogate")
                }
                guard let u = Unicode.Scalar(scalar) else { throw fail("an invalid \\u escape") }
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default: throw fail("an invalid escape")
            }
            while at < bytes.count, bytes[at] != UInt8(ascii: "\""), bytes[at] != UInt8(ascii: "\\") {
                guard bytes[at] >= 0x20 else { throw fail("a control character inside a string") }
                out.append(bytes[at])
                at += 1
            }
            guard at < bytes.count else { throw fail("an unterminated string") }
        }
        at += 1  // the closing quote
        guard let text = String(validating: out, as: UTF8.self) else { throw JSONParseError(offset: start, reason: "a string that is not UTF-8") }
        return text
    }

    mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard at + 4 <= bytes.count else { throw fail("a short \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[at]
            let d: UInt32
            switch c {
            case 48...57: d = UInt32(c - 48)
            case 97...102: d = UInt32(c - 87)
            case 65...70: d = UInt32(c - 55)
            default: throw fail("a bad hex digit in a \\u escape")
            }
            v = v << 4 | d
            at += 1
        }
        return v
    }

    mutating func number() throws(JSONParseError) -> Double {
        let start = at
        if bytes[at] == UInt8(ascii: "-") { at += 1 }
        guard at < bytes.count, (48...57).contains(bytes[at]) else { throw fail("a number without digits") }
        if bytes[at] == UInt8(ascii: "0") {
            at += 1
        } else {
            while at < bytes.count, (48...57).contains(bytes[at]) { at += 1 }
        }
        if at < bytes.count, bytes[at] == UInt8(ascii: ".") {
            at += 1
            guard at < bytes.count, (48...57).contains(bytes[at]) else { throw fail("a number with nothing after '.'") }
            while at < bytes.count, (48...57).contains(bytes[at]) { at += 1 }
        }
        if at < bytes.count, bytes[at] == UInt8(ascii: "e") || bytes[at] == UInt8(ascii: "E") {
            at += 1
            if at < bytes.count, bytes[at] == UInt8(ascii: "+") || bytes[at] == UInt8(ascii: "-") { at += 1 }
            guard at < bytes.count, (48...57).contains(bytes[at]) else { throw fail("a number with an empty exponent") }
            while at < bytes.count, (48...57).contains(bytes[at]) { at += 1 }
        }
        guard let d = Double(String(decoding: bytes[start..<at], as: UTF8.self)), d.isFinite else {
            throw JSONParseError(offset: start, reason: "a number too large to represent")
        }
        return d
    }
}

extension JSONValue {
    /// Compact JSON text of the value, object keys sorted (the same text for the same value). Written by hand for the
    /// same reason as ``parse(_:maxDepth:)``: `JSONEncoder` took a fifth of the webhook receiver's CPU.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(to: &out)
        return out
    }

    public func write(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
        case .bool(let b): out.append(contentsOf: b ? Array("true".utf8) : Array("false".utf8))
        case .number(let d):
            if d == d.rounded(), abs(d) < 9_007_199_254_740_992 {
                out.append(contentsOf: Array(String(Int64(d)).utf8))
            } else {
                out.append(contentsOf: Array(String(d).utf8))
            }
        case .string(let s): Self.writeString(s, to: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (i, v) in a.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                v.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            for (i, key) in o.keys.sorted().enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                o[key]!.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    static func writeString(_ s: String, to out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0..<0x20: out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 15)]])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
