/// A type a model must answer with. Its JSON Schema goes to the provider (OpenAI `response_format`, an Anthropic tool's
/// `input_schema`); the answer is decoded into the type and checked by ``validate()``. The Swift type is the contract:
/// an answer that does not decode, or fails the checks, is ``ProviderError/Kind/invalidOutput(_:)``. (No JSON Schema
/// validator is written here: decoding into the type checks the shape, `validate()` the values.)
public protocol StructuredOutput: Decodable, Sendable {
    /// A short name for the schema (letters, digits, `_`, `-`).
    static var schemaName: String { get }
    /// The JSON Schema of an object, as JSON text.
    static var jsonSchema: String { get }
    /// Checks values the schema cannot (ranges, non-empty text). Throws a reason.
    func validate() throws(InvalidOutput)
}

extension StructuredOutput {
    public func validate() throws(InvalidOutput) {}
}

/// Why a decoded answer is not acceptable.
public struct InvalidOutput: Error, Sendable, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// One message of a chat.
public struct ChatMessage: Sendable, Hashable, Codable {
    public enum Role: String, Sendable, Codable { case system, user, assistant }
    public var role: Role
    public var content: String
    public init(_ role: Role, _ content: String) { (self.role, self.content) = (role, content) }
}

/// Tokens a call used, as the provider counted them (0 for the embedded models).
public struct TokenUsage: Sendable, Hashable, Codable {
    public var prompt: Int
    public var completion: Int
    public init(prompt: Int = 0, completion: Int = 0) { (self.prompt, self.completion) = (prompt, completion) }
    public var total: Int { prompt + completion }
}

/// A structured answer and what it cost.
public struct ChatResult<Output: Sendable>: Sendable {
    public var output: Output
    public var model: ModelRef
    public var usage: TokenUsage
    public var latency: Duration
    /// HTTP exchanges made (more than one after in-call retries of a server error).
    public var requests: Int
}
