public import FoundationEssentials
import Crypto

/// One help-center entry as a source file gives it, before it is stored.
public struct KBEntry: Sendable, Hashable {
    public static let types: Set<String> = ["article", "faq", "policy", "snippet"]
    /// Text-search configurations an entry may name (PostgreSQL's built-in ones for the tenants' languages).
    public static let languages: Set<String> = ["english", "spanish", "simple"]

    /// The source's own id: front matter `id`, a CSV/JSON `id`, or the file's name without extension.
    public var externalID: String
    public var slug: String?
    public var type: String
    public var title: String
    /// The body, as Markdown.
    public var content: String
    public var keywords: [String]
    public var category: String?
    public var priority: Int
    public var active: Bool
    /// Other front-matter fields, kept as strings.
    public var metadata: [String: String]
    public var language: String
    /// Where it came from, for error messages.
    public var source: String

    public init(
        externalID: String, slug: String? = nil, type: String = "article", title: String, content: String, keywords: [String] = [],
        category: String? = nil, priority: Int = 0, active: Bool = true, metadata: [String: String] = [:], language: String = "english",
        source: String = ""
    ) {
        (self.externalID, self.slug, self.type, self.title, self.content) = (externalID, slug, type, title, content)
        (self.keywords, self.category, self.priority, self.active) = (keywords, category, priority, active)
        (self.metadata, self.language, self.source) = (metadata, language, source)
    }

    /// SHA-256 over every stored field and the chunker's version: equal hashes mean an import has nothing to change.
    public var contentHash: String {
        var fields = [
            "chunker \(KBChunker.version)", externalID, slug ?? "", type, title, content, keywords.joined(separator: "\u{1F}"), category ?? "",
            "\(priority)", "\(active)", language,
        ]
        fields += metadata.keys.sorted().map { "\($0)=\(metadata[$0] ?? "")" }
        let digest = SHA256.hash(data: Array(fields.joined(separator: "\u{1E}").utf8))
        return digest.map { byte in String(byte, radix: 16).leftPadded(to: 2) }.joined()
    }
}

extension String {
    func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
