/// A part of a turn, with its place in the turn's text (offsets in Unicode scalars, like Python's string indices).
public struct TurnSegment: Sendable, Equatable, Codable {
    public var text: String
    public var start: Int
    public var end: Int

    public init(text: String, start: Int, end: Int) {
        self.text = text
        self.start = start
        self.end = end
    }
}

/// Splits a turn into the parts that may each carry an intent: sentences, lines, and clauses joined by connectors
/// that add a request ("… and also …", "Also, …", "… y también …"). A plain "and" is only a *candidate* split
/// (`softSplits`): "cancel my order and send me the invoice" is two requests, "track and trace my order" is one, so
/// the classifier keeps the split only when both halves are confident and different.
public struct TurnSegmenter: Sendable {
    /// More parts than this are folded into the last one (a 100 KB paste is not 5,000 intents).
    public var maximumSegments = 8
    /// A soft split needs at least this many words on each side.
    public var minimumClauseWords = 2

    public init() {}

    static let connectors = [
        " and also ", ", and also ", ", also ", " also, ", " plus, ", " and then ", " as well as ", " and another thing ",
        " y también ", ", también ", " y además ", ", además ", " además, ", " y luego ", " aparte, ",
    ]
    static let softConnectors = [", and ", " and ", ", but ", " but ", " y ", " e ", " pero "]
    static let abbreviations: Set<String> = [
        "mr", "mrs", "ms", "dr", "sr", "sra", "srta", "st", "no", "nr", "vs", "etc", "e.g", "i.e", "approx", "dept",
    ]

    /// The turn's segments, in order; empty for a text with no letters or digits.
    public func segments(_ text: String) -> [TurnSegment] {
        let scalars = Array(text.unicodeScalars)
        var cuts: [Int] = []  // scalar offsets where a new segment starts
        var i = 0
        while i < scalars.count {
            let c = scalars[i]
            if c == "\n" || c == "\r" || c == ";" {
                cuts.append(i + 1)
            } else if c == "." || c == "!" || c == "?" || c == "…" {
                var j = i + 1
                while j < scalars.count, ".!?…".unicodeScalars.contains(scalars[j]) { j += 1 }
                if j >= scalars.count || scalars[j].properties.isWhitespace || scalars[j] == "¿" || scalars[j] == "¡" {
                    if c != "." || !endsWithAbbreviation(scalars, before: i) { cuts.append(j) }
                }
                i = j
                continue
            } else if c == "¿" || c == "¡" {
                cuts.append(i)
            }
            i += 1
        }
        // Connectors, matched on the lower-cased text (same scalar offsets for these ASCII/Latin phrases).
        let lower = Array(text.lowercased().unicodeScalars)
        if lower.count == scalars.count {
            for connector in Self.connectors {
                for offset in occurrences(of: Array(connector.unicodeScalars), in: lower) { cuts.append(offset + 1) }
            }
        }
        var pieces: [TurnSegment] = []
        var start = 0
        for cut in (cuts + [scalars.count]).sorted() where cut > start {
            if let piece = trimmed(scalars, start, cut) { pieces.append(piece) }
            start = cut
        }
        return capped(pieces.map { stripConnector($0) }, scalars)
    }

    /// Candidate two-way splits of one segment at a plain conjunction, each side with enough words.
    public func softSplits(_ segment: TurnSegment) -> [(TurnSegment, TurnSegment)] {
        let scalars = Array(segment.text.unicodeScalars)
        let lower = Array(segment.text.lowercased().unicodeScalars)
        guard lower.count == scalars.count else { return [] }
        var splits: [(TurnSegment, TurnSegment)] = []
        for connector in Self.softConnectors {
            let pattern = Array(connector.unicodeScalars)
            for offset in occurrences(of: pattern, in: lower) {
                guard let left = trimmed(scalars, 0, offset), let right = trimmed(scalars, offset + pattern.count, scalars.count),
                    wordCount(left.text) >= minimumClauseWords, wordCount(right.text) >= minimumClauseWords
                else { continue }
                splits.append(
                    (
                        TurnSegment(text: left.text, start: segment.start + left.start, end: segment.start + left.end),
                        TurnSegment(text: right.text, start: segment.start + right.start, end: segment.start + right.end)
                    ))
            }
        }
        return splits.sorted { $0.0.end < $1.0.end }.prefix(3).map { $0 }
    }

    private func capped(_ pieces: [TurnSegment], _ scalars: [Unicode.Scalar]) -> [TurnSegment] {
        guard pieces.count > maximumSegments else { return pieces }
        var kept = Array(pieces.prefix(maximumSegments - 1))
        if let rest = trimmed(scalars, pieces[maximumSegments - 1].start, scalars.count) { kept.append(rest) }
        return kept
    }

    /// Drops a leading connector word left at the start of a piece ("also, send me…" → "send me…").
    private func stripConnector(_ piece: TurnSegment) -> TurnSegment {
        let lower = piece.text.lowercased()
        for lead in [
            "and also ", "also, ", "also ", "plus, ", "and then ", "as well as ", "y también ", "también ", "y además ", "además, ", "además ",
            "y luego ", "aparte, ",
        ]
        where lower.hasPrefix(lead) && lower.unicodeScalars.count == piece.text.unicodeScalars.count {
            let drop = lead.unicodeScalars.count
            let rest = String(String.UnicodeScalarView(piece.text.unicodeScalars.dropFirst(drop)))
            guard wordCount(rest) > 0 else { return piece }
            return TurnSegment(text: rest, start: piece.start + drop, end: piece.end)
        }
        return piece
    }

    private func trimmed(_ scalars: [Unicode.Scalar], _ start: Int, _ end: Int) -> TurnSegment? {
        var s = start
        var e = end
        while s < e, scalars[s].properties.isWhitespace || ",;".unicodeScalars.contains(scalars[s]) { s += 1 }
        while e > s, scalars[e - 1].properties.isWhitespace { e -= 1 }
        guard scalars[s..<e].contains(where: { $0.properties.isAlphabetic || $0.properties.numericType != nil }) else { return nil }
        return TurnSegment(text: String(String.UnicodeScalarView(scalars[s..<e])), start: s, end: e)
    }

    private func endsWithAbbreviation(_ scalars: [Unicode.Scalar], before index: Int) -> Bool {
        var s = index
        while s > 0, !scalars[s - 1].properties.isWhitespace { s -= 1 }
        let word = String(String.UnicodeScalarView(scalars[s..<index])).lowercased()
        return Self.abbreviations.contains(word)
            || (word.count == 1 && String(String.UnicodeScalarView(scalars[s..<index])).first?.isUppercase == true)
    }

    private func occurrences(of pattern: [Unicode.Scalar], in text: [Unicode.Scalar]) -> [Int] {
        guard pattern.count <= text.count else { return [] }
        var found: [Int] = []
        var i = 0
        while i + pattern.count <= text.count {
            if text[i] == pattern[0], Array(text[i..<(i + pattern.count)]) == pattern {
                found.append(i)
                i += pattern.count
            } else {
                i += 1
            }
        }
        return found
    }
}

func wordCount(_ text: String) -> Int { text.split { !($0.isLetter || $0.isNumber) }.count }
