/// A model as settings name it: `provider:model` ("openai:gpt-4o-mini", "anthropic:claude-3-haiku-20240307",
/// "together:meta-llama/Llama-3.3-70B-Instruct-Turbo"), or `embedded` for the local models that need no network.
public struct ModelRef: Sendable, Hashable, Codable, LosslessStringConvertible {
    /// The provider's name, which selects its ``ProviderEndpoint``; "embedded" for the local models.
    public let provider: String
    /// The provider's model id; empty for embedded.
    public let model: String

    public static let embedded = ModelRef(provider: "embedded", model: "")

    public init(provider: String, model: String) {
        (self.provider, self.model) = (provider, model)
    }

    /// Parses `provider:model` or `embedded`; nil for anything else (a provider name is lower-case letters, digits
    /// and dashes; the model id is not empty and has no spaces).
    public init?(_ text: String) {
        if text == "embedded" {
            self = .embedded
            return
        }
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let provider = String(text[..<colon])
        let model = String(text[text.index(after: colon)...])
        guard !provider.isEmpty, provider.count <= 40, provider.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }),
            !model.isEmpty, model.count <= 200, !model.contains(where: \.isWhitespace)
        else { return nil }
        self.init(provider: provider, model: model)
    }

    public var isEmbedded: Bool { provider == "embedded" }
    public var description: String { isEmbedded ? "embedded" : "\(provider):\(model)" }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let parsed = ModelRef(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not provider:model or embedded"))
        }
        self = parsed
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
