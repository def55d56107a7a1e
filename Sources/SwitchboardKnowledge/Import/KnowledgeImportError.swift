/// A source file that cannot be imported. Nothing of the import was written: fix the file and run it again.
public struct KnowledgeImportError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file, as given on the command line or found in the folder.
    public let file: String
    /// 1-based line of the offending row or front-matter field; nil for whole-file problems.
    public let line: Int?
    /// The column or front-matter field, when one is to blame.
    public let field: String?
    public let reason: String

    public init(file: String, line: Int? = nil, field: String? = nil, _ reason: String) {
        (self.file, self.line, self.field, self.reason) = (file, line, field, reason)
    }

    public var description: String {
        var place = file
        if let line { place += ":\(line)" }
        if let field { place += " (\(field))" }
        return "\(place): \(reason); nothing was imported"
    }
}
