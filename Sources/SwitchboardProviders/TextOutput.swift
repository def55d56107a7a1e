import Foundation

/// An answer that is one non-empty text field (a reply, a summary): the schema, the decoding and the checks follow
/// from the field's name and its length limit, so an agent that writes text declares only those two.
public protocol TextOutput: StructuredOutput {
    /// The JSON field that carries the text; also the schema's name.
    static var field: String { get }
    /// The longest text accepted, in characters.
    static var maximumLength: Int { get }
    var text: String { get }
    init(text: String)
}

extension TextOutput {
    public static var schemaName: String { field }

    public static var jsonSchema: String {
        #"{"type":"object","properties":{"\#(field)":{"type":"string"}},"required":["\#(field)"],"additionalProperties":false}"#
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: FieldKey.self)
        self.init(text: try container.decode(String.self, forKey: FieldKey(Self.field)))
    }

    public func validate() throws(InvalidOutput) {
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw InvalidOutput("the \(Self.field) is empty") }
        guard text.count <= Self.maximumLength else {
            throw InvalidOutput("the \(Self.field) is longer than \(Self.maximumLength.formatted()) characters")
        }
    }
}

/// A coding key named at run time.
struct FieldKey: CodingKey {
    let stringValue: String
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    var intValue: Int? { nil }
    init?(intValue: Int) { nil }
}
