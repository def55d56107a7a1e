/// An `application/x-www-form-urlencoded` body: `+` is a space, `%XX` a byte, and the bytes must be UTF-8.
/// Parameters keep their order and repeats (Twilio signs every one of them).
public enum FormBody {
    public struct Malformed: Error, CustomStringConvertible {
        public let description: String
    }

    public static func parse(_ body: [UInt8]) throws(Malformed) -> [(String, String)] {
        if body.isEmpty { return [] }
        var out: [(String, String)] = []
        for pair in body.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            let key = try decode(parts[0])
            let value = parts.count > 1 ? try decode(parts[1]) : ""
            guard !key.isEmpty else { throw Malformed(description: "a form parameter has an empty name") }
            out.append((key, value))
        }
        return out
    }

    static func decode(_ bytes: ArraySlice<UInt8>) throws(Malformed) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let c = bytes[i]
            if c == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
            } else if c == UInt8(ascii: "%") {
                guard i + 2 < bytes.endIndex, let hi = hex(bytes[i + 1]), let lo = hex(bytes[i + 2])
                else { throw Malformed(description: "the form body has a broken %-escape") }
                out.append(hi << 4 | lo)
                i += 2
            } else {
                out.append(c)
            }
            i += 1
        }
        guard let text = String(validating: out, as: UTF8.self) else { throw Malformed(description: "the form body is not UTF-8") }
        return text
    }

    /// The value of one hex digit (either case).
    static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: c - 48
        case 97...102: c - 87
        case 65...70: c - 55
        default: nil
        }
    }
}
