public import Foundation

/// How long a provider asked us to wait, from its headers: `Retry-After` (seconds or an HTTP date), `retry-after-ms`,
/// OpenAI's `x-ratelimit-reset-requests` / `-tokens` ("1s", "6m0s", "20ms"), Anthropic's
/// `anthropic-ratelimit-requests-reset` / `-tokens-reset` / `-input-tokens-reset` (RFC 3339 times). The longest wins.
public enum RetryAdvice {
    public static func delay(headers: [(String, String)], now: Date = Date()) -> Duration? {
        var best: Duration?
        func offer(_ d: Duration?) {
            guard let d, d >= .zero else { return }
            best = max(best ?? .zero, d)
        }
        for (rawName, value) in headers {
            let name = rawName.lowercased()
            let v = value.trimmingCharacters(in: .whitespaces)
            switch name {
            case "retry-after":
                if let seconds = Double(v) { offer(.milliseconds(Int64(seconds * 1000))) } else { offer(httpDate(v).map { since(now, $0) }) }
            case "retry-after-ms":
                offer(Double(v).map { .milliseconds(Int64($0)) })
            case "x-ratelimit-reset-requests", "x-ratelimit-reset-tokens":
                offer(goDuration(v))
            case "anthropic-ratelimit-requests-reset", "anthropic-ratelimit-tokens-reset", "anthropic-ratelimit-input-tokens-reset",
                "anthropic-ratelimit-output-tokens-reset":
                offer(rfc3339(v).map { since(now, $0) })
            default: continue
            }
        }
        return best
    }

    private static func since(_ now: Date, _ then: Date) -> Duration { .milliseconds(Int64(max(0, then.timeIntervalSince(now)) * 1000)) }

    /// "1s", "6m0s", "1h2m3.5s", "20ms".
    static func goDuration(_ text: String) -> Duration? {
        var total = 0.0
        var number = ""
        var unit = ""
        var any = false
        func flush() -> Bool {
            guard let n = Double(number) else { return false }
            switch unit {
            case "h": total += n * 3600
            case "m": total += n * 60
            case "s": total += n
            case "ms": total += n / 1000
            case "us", "µs": total += n / 1_000_000
            default: return false
            }
            (number, unit, any) = ("", "", true)
            return true
        }
        for c in text {
            if c.isNumber || c == "." {
                if !unit.isEmpty { guard flush() else { return nil } }
                number.append(c)
            } else {
                unit.append(c)
            }
        }
        if !number.isEmpty { guard flush() else { return nil } }
        return any ? .milliseconds(Int64(total * 1000)) : nil
    }

    static func httpDate(_ text: String) -> Date? {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return f.date(from: text)
    }

    static func rfc3339(_ text: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: text) { return d }
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: text)
    }
}
