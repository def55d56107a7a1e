/// An API key. It prints as `[redacted]` wherever it is interpolated, so it cannot reach a log line or an error by
/// accident. ``reveal()`` gives the text, for the request header and for sealing it — nowhere else.
public struct APIKey: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    let value: String
    public init(_ value: String) { self.value = value }
    /// The key's text: to put in a request header or seal, never to print.
    public func reveal() -> String { value }
    public var description: String { "[redacted]" }
    public var debugDescription: String { "[redacted]" }
    public var isEmpty: Bool { value.isEmpty }
}

/// Where and how to reach one provider: its API style, base URL, key and timeouts.
public struct ProviderEndpoint: Sendable {
    public enum API: String, Sendable, Codable {
        /// `POST {base}/v1/chat/completions` and `/v1/embeddings` (OpenAI, Together AI, vLLM, Ollama, LM Studio).
        case openAICompatible = "openai-compatible"
        /// `POST {base}/v1/messages` with `x-api-key` and `anthropic-version`.
        case anthropic
    }

    public var name: String
    public var api: API
    /// Scheme, host and optional port, no trailing slash ("https://api.openai.com").
    public var baseURL: String
    public var apiKey: APIKey?
    /// Time to open the connection. Default 5 s.
    public var connectTimeout: Duration
    /// Time for a whole call. Default 30 s: long enough for a short structured answer, short enough that a hung
    /// provider costs a turn seconds, not minutes (the circuit breaker stops paying it after a few).
    public var timeout: Duration
    public var anthropicVersion: String

    public init(
        name: String, api: API, baseURL: String, apiKey: APIKey? = nil, connectTimeout: Duration = .seconds(5), timeout: Duration = .seconds(30),
        anthropicVersion: String = "2023-06-01"
    ) {
        self.name = name
        self.api = api
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apiKey = apiKey
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.anthropicVersion = anthropicVersion
    }

    /// The well-known providers' API style and base URL.
    public static func known(_ name: String) -> (api: API, baseURL: String)? {
        switch name {
        case "openai": (.openAICompatible, "https://api.openai.com")
        case "anthropic": (.anthropic, "https://api.anthropic.com")
        case "together": (.openAICompatible, "https://api.together.xyz")
        case "ollama": (.openAICompatible, "http://127.0.0.1:11434")
        case "lmstudio": (.openAICompatible, "http://127.0.0.1:1234")
        default: nil
        }
    }

    /// Request headers with the key: `Authorization: Bearer` or `x-api-key` with `anthropic-version`.
    var headers: [(String, String)] {
        var h = [("Content-Type", "application/json"), ("Accept", "application/json")]
        switch api {
        case .openAICompatible:
            if let apiKey, !apiKey.isEmpty { h.append(("Authorization", "Bearer \(apiKey.value)")) }
        case .anthropic:
            if let apiKey { h.append(("x-api-key", apiKey.value)) }
            h.append(("anthropic-version", anthropicVersion))
        }
        return h
    }
}
