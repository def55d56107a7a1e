/// Parses and prints durations the way operators type them: `250ms`, `5s`, `2m`, `1h`, `1d`, and sums such as `1m30s`.
public enum DurationText {
    /// - Throws: ``QueueError`` with code ``QueueError/Code/invalidOptions`` saying what a valid duration looks like.
    public static func parse(_ text: String) throws(QueueError) -> Duration {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        var rest = Substring(text.trimmingCharacters())
        var total: Int64 = 0
        guard !rest.isEmpty else { throw invalid(text) }
        while !rest.isEmpty {
            let digits = rest.prefix(while: \.isNumber)
            guard let value = Int64(digits) else { throw invalid(text) }
            rest = rest.dropFirst(digits.count)
            guard let unit = units.first(where: { rest.hasPrefix($0.0) && !(($0.0 == "m") && rest.hasPrefix("ms")) }) else { throw invalid(text) }
            rest = rest.dropFirst(unit.0.count)
            let (product, overflow) = value.multipliedReportingOverflow(by: unit.1)
            guard !overflow else { throw invalid(text) }
            total += product
        }
        return .milliseconds(total)
    }

    /// `3m12s`, `450ms`, `2h5m`, `4d3h`: the two largest units, for ages and durations in tables.
    public static func format(_ duration: Duration) -> String {
        var ms = duration.milliseconds
        if ms < 0 { return "-" + format(.milliseconds(-ms)) }
        if ms < 1000 { return "\(ms)ms" }
        let units: [(String, Int64)] = [("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)]
        var parts: [String] = []
        for (name, size) in units where ms >= size || !parts.isEmpty {
            if parts.count == 2 { break }
            let n = ms / size
            ms %= size
            if n > 0 || !parts.isEmpty { parts.append("\(n)\(name)") }
        }
        return parts.joined()
    }

    private static func invalid(_ text: String) -> QueueError {
        QueueError(.invalidOptions, "\"\(text)\" is not a duration; write it like 250ms, 5s, 2m, 1h, 1d or 1m30s")
    }
}

extension String {
    fileprivate func trimmingCharacters() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
