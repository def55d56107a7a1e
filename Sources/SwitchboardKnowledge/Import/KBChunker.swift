import Foundation

/// Cuts an entry's Markdown into passages for search: by heading, then by paragraph (a list is one paragraph),
/// merging short neighbours and splitting long ones at sentence ends. Each passage starts with the entry's title
/// and its section's heading, so a passage found alone still says what it is about. Markup is removed
/// (`**bold**`, `*italic*`, `` `code` ``, `[text](url)`).
public struct KBChunker: Sendable {
    /// Paragraphs shorter than this many words join the next one of their section.
    public var minimumWords = 30
    /// Passages longer than this are split at sentence ends (the model reads at most 256 tokens).
    public var maximumWords = 150

    public init() {}

    /// Part of every entry's content hash: changing how entries are cut re-chunks them on the next import.
    public static let version = 3

    /// The passages of an entry: first its title with its keywords (what the entry is about, in the fewest words),
    /// then its body's passages.
    public func chunks(title: String, keywords: [String] = [], markdown: String) -> [String] {
        let heading = keywords.isEmpty ? "\(title)." : "\(title). \(keywords.joined(separator: ", "))."
        var passages: [String] = [heading]
        for section in sections(markdown) {
            let prefix = section.heading.map { "\(title). \($0)\($0.last?.isPunctuation == true ? "" : ".")" } ?? "\(title)."
            var pending: [String] = []
            func flush() {
                guard !pending.isEmpty else { return }
                passages.append(prefix + " " + pending.joined(separator: " "))
                pending = []
            }
            for paragraph in section.paragraphs {
                for piece in split(paragraph) {
                    pending.append(piece)
                    if wordCount(pending.joined(separator: " ")) >= minimumWords { flush() }
                }
            }
            if !pending.isEmpty, passages.count > 1, let last = passages.last, last.hasPrefix(prefix),
                wordCount(last) + wordCount(pending.joined(separator: " ")) <= maximumWords
            {
                passages[passages.count - 1] = last + " " + pending.joined(separator: " ")
                pending = []
            }
            flush()
        }
        return passages
    }

    struct Section {
        var heading: String?
        var paragraphs: [String]
    }

    func sections(_ markdown: String) -> [Section] {
        var sections = [Section(heading: nil, paragraphs: [])]
        var paragraph: [String] = []
        func endParagraph() {
            let text = paragraph.joined(separator: " ").trimmingCharacters(in: .whitespaces)
            if !text.isEmpty { sections[sections.count - 1].paragraphs.append(Self.plain(text)) }
            paragraph = []
        }
        for raw in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("#") {
                endParagraph()
                let heading = line.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces)
                sections.append(Section(heading: Self.plain(heading), paragraphs: []))
            } else if line.isEmpty {
                // A blank line ends a paragraph, but a list keeps going across blank lines between its items.
                if !(paragraph.last.map(Self.isListItem) ?? false) { endParagraph() }
            } else {
                if let last = paragraph.last, Self.isListItem(last), !Self.isListItem(line), !raw.hasPrefix(" ") { endParagraph() }
                paragraph.append(Self.isListItem(line) ? String(line.drop { "-*+ ".contains($0) || $0.isNumber || $0 == "." }) : line)
            }
        }
        endParagraph()
        return sections.filter { !$0.paragraphs.isEmpty }
    }

    /// A paragraph, cut at sentence ends into pieces of at most `maximumWords`.
    func split(_ paragraph: String) -> [String] {
        guard wordCount(paragraph) > maximumWords else { return [paragraph] }
        var pieces: [String] = []
        var current = ""
        for sentence in paragraph.split(separator: ". ", omittingEmptySubsequences: true) {
            let s = sentence.hasSuffix(".") ? String(sentence) : sentence + "."
            if !current.isEmpty && wordCount(current) + wordCount(s) > maximumWords {
                pieces.append(current)
                current = ""
            }
            current += current.isEmpty ? s : " " + s
        }
        if !current.isEmpty { pieces.append(current) }
        return pieces
    }

    func wordCount(_ text: String) -> Int { text.split(whereSeparator: \.isWhitespace).count }

    static func isListItem(_ line: String) -> Bool {
        line.hasPrefix("- ") || line.hasPrefix("* ") || line.hasPrefix("+ ") || (line.first?.isNumber == true && line.contains(". "))
    }

    /// Markdown emphasis, code and links removed.
    static func plain(_ text: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "[") {
            out += rest[..<open]
            let afterOpen = rest.index(after: open)
            if let close = rest[afterOpen...].firstIndex(of: "]"), rest.index(after: close) < rest.endIndex,
                rest[rest.index(after: close)] == "(", let paren = rest[close...].firstIndex(of: ")")
            {
                out += rest[afterOpen..<close]
                rest = rest[rest.index(after: paren)...]
            } else {
                out += "["
                rest = rest[afterOpen...]
            }
        }
        out += rest
        return out.replacingOccurrences(of: "**", with: "").replacingOccurrences(of: "`", with: "").replacingOccurrences(of: "*", with: "")
            .replacingOccurrences(of: "_", with: " ")
    }
}
