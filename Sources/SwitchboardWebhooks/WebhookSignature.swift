import Crypto
import FoundationEssentials

/// Provider request signatures, checked on the raw bytes as received (never on re-serialised JSON).
public enum WebhookSignature {
    /// Meta's `X-Hub-Signature-256: sha256=<lowercase hex HMAC-SHA256(app secret, raw body)>`, compared in
    /// constant time. A missing or malformed header is simply invalid.
    public static func verifyMeta(body: [UInt8], header: String?, appSecret: String) -> Bool {
        guard let header, header.hasPrefix("sha256="), let mac = hexBytes(header.dropFirst(7)), mac.count == 32 else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: body, using: SymmetricKey(data: Array(appSecret.utf8)))
    }

    /// Twilio's `X-Twilio-Signature`: base64(HMAC-SHA1(auth token, URL + every form parameter as key+value, sorted by
    /// key, values of a repeated key sorted)).
    public static func twilio(url: String, parameters: [(String, String)], authToken: String) -> String {
        var message = url
        for (key, value) in parameters.sorted(by: { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }) { message += key + value }
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: Array(message.utf8), using: SymmetricKey(data: Array(authToken.utf8)))
        return Data(mac).base64EncodedString()
    }

    /// Checks `X-Twilio-Signature` against the URL as given and with its default port added or removed (Twilio's
    /// own validators do the same: what it signed depends on how the URL was configured).
    public static func verifyTwilio(url: String, parameters: [(String, String)], header: String?, authToken: String) -> Bool {
        guard let header, let given = Data(base64Encoded: header) else { return false }
        for candidate in urlVariants(url) {
            guard let expected = Data(base64Encoded: twilio(url: candidate, parameters: parameters, authToken: authToken)) else { continue }
            if constantTimeEqual(Array(expected), Array(given)) { return true }
        }
        return false
    }

    static func urlVariants(_ url: String) -> [String] {
        var out = [url]
        for (scheme, port) in [("https://", ":443"), ("http://", ":80")] where url.hasPrefix(scheme) {
            let rest = url.dropFirst(scheme.count)
            let hostEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
            let host = rest[..<hostEnd]
            if host.hasSuffix(port) {
                out.append(scheme + host.dropLast(port.count) + rest[hostEnd...])
            } else if !host.contains(":") {
                out.append(scheme + host + port + rest[hostEnd...])
            }
        }
        return out
    }

    /// Lowercase hex HMAC-SHA256, as Meta writes it after `sha256=` (for signing test and replayed requests).
    public static func hmacSHA256Hex(key: [UInt8], message: [UInt8]) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key))
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in mac {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Equal bytes, in time that depends only on the lengths.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in a.indices { diff |= a[i] ^ b[i] }
        return diff == 0
    }

    static func hexBytes(_ text: Substring) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        var i = 0
        while i < chars.count {
            guard let hi = FormBody.hex(chars[i]), let lo = FormBody.hex(chars[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }
}
