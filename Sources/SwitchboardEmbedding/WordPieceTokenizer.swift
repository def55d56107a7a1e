import Foundation

/// BERT's uncased WordPiece tokenizer, as all-MiniLM-L6-v2's `tokenizer.json` configures it.
///
/// Normalisation, in the order Hugging Face `tokenizers` applies it: drop NUL, U+FFFD and other control and format
/// characters, turn every whitespace into a space; put spaces around CJK ideographs; strip accents (NFD, then drop
/// non-spacing marks); lower-case. Then split on whitespace and punctuation (each punctuation mark a word of its own),
/// and cut each word greedily into the longest vocabulary pieces, continuations prefixed `##`. A word that cannot
/// be cut, or longer than 100 characters, becomes `[UNK]`.
public struct WordPieceTokenizer: Sendable {
    private let vocabulary: [String: Int32]
    public let unknownID: Int32
    public let classifierID: Int32
    public let separatorID: Int32
    private let maxCharactersPerWord = 100

    /// Reads `vocab.txt`: one token a line, its id its line number from 0.
    public init(vocabularyFile path: String) throws(EmbeddingModelError) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw .missingFile(path) }
        var vocabulary: [String: Int32] = [:]
        vocabulary.reserveCapacity(32_000)
        var id: Int32 = 0
        text.enumerateLines { line, _ in
            vocabulary[line] = id
            id += 1
        }
        guard let unk = vocabulary["[UNK]"], let cls = vocabulary["[CLS]"], let sep = vocabulary["[SEP]"] else {
            throw .corrupt(path, "lacks [UNK], [CLS] or [SEP]")
        }
        (self.vocabulary, self.unknownID, self.classifierID, self.separatorID) = (vocabulary, unk, cls, sep)
    }

    public var vocabularySize: Int { vocabulary.count }

    /// `[CLS]` + the text's pieces + `[SEP]`, at most `maxTokens` in all (the pieces past the limit are dropped).
    public func encode(_ text: String, maxTokens: Int) -> [Int32] {
        var ids: [Int32] = [classifierID]
        let limit = max(2, maxTokens) - 1
        for word in words(of: text) {
            appendPieces(of: word, to: &ids)
            if ids.count >= limit { break }
        }
        if ids.count > limit { ids.removeLast(ids.count - limit) }
        ids.append(separatorID)
        return ids
    }

    /// The normalised words and punctuation marks of `text`, before WordPiece.
    func words(of text: String) -> [String] {
        var words: [String] = []
        var current = String.UnicodeScalarView()
        func flush() {
            if !current.isEmpty { words.append(String(current)) }
            current = String.UnicodeScalarView()
        }
        for scalar in Self.normalize(text) {
            if scalar == " " {
                flush()
            } else if Self.isPunctuation(scalar) {
                flush()
                words.append(String(scalar))
            } else {
                current.append(scalar)
            }
        }
        flush()
        return words
    }

    private func appendPieces(of word: String, to ids: inout [Int32]) {
        let scalars = Array(word.unicodeScalars)
        guard scalars.count <= maxCharactersPerWord else { return ids.append(unknownID) }
        var pieces: [Int32] = []
        var start = 0
        while start < scalars.count {
            var end = scalars.count
            var found: Int32?
            while start < end {
                var piece = start > 0 ? "##" : ""
                piece.unicodeScalars.append(contentsOf: scalars[start..<end])
                if let id = vocabulary[piece] {
                    found = id
                    break
                }
                end -= 1
            }
            guard let id = found else { return ids.append(unknownID) }
            pieces.append(id)
            start = end
        }
        ids.append(contentsOf: pieces)
    }

    /// Cleaning, CJK spacing, accent stripping and lower-casing, as scalars.
    static func normalize(_ text: String) -> [Unicode.Scalar] {
        var spaced = String.UnicodeScalarView()
        var ascii = true
        for scalar in text.unicodeScalars {
            if scalar.value == 0 || scalar.value == 0xFFFD { continue }
            if isWhitespace(scalar) {
                spaced.append(" ")
            } else if isControl(scalar) {
                continue
            } else if isCJK(scalar) {
                spaced.append(" ")
                spaced.append(scalar)
                spaced.append(" ")
                ascii = false
            } else {
                spaced.append(scalar)
                if !scalar.isASCII { ascii = false }
            }
        }
        if ascii {
            return spaced.map { $0.value >= 65 && $0.value <= 90 ? Unicode.Scalar($0.value + 32)! : $0 }
        }
        var out: [Unicode.Scalar] = []
        for scalar in String(spaced).decomposedStringWithCanonicalMapping.unicodeScalars
        where scalar.properties.generalCategory != .nonspacingMark {
            out.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
        }
        return out
    }

    static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        s == " " || s == "\t" || s == "\n" || s == "\r" || s.properties.generalCategory == .spaceSeparator
    }

    static func isControl(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned: true
        default: false
        }
    }

    static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) { return true }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation, .finalPunctuation,
            .otherPunctuation:
            return true
        default:
            return false
        }
    }

    /// The CJK Unified Ideographs blocks BERT spaces out (not Hiragana, Katakana or Hangul, which it treats as letters).
    static func isCJK(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F, 0x2B820...0x2CEAF, 0xF900...0xFAFF,
            0x2F800...0x2FA1F:
            true
        default: false
        }
    }
}
