import Foundation
public import SwitchboardHTTP
import SwitchboardJSON

/// Calls hosted models over the project's libcurl client: OpenAI-compatible chat and embeddings, Anthropic messages.
/// Structured output is decoded into the caller's type and checked; 5xx answers are retried in the call with backoff
/// (honouring `Retry-After`), 429 becomes ``ProviderError/Kind/rateLimited(retryAfter:)`` for the job to be
/// rescheduled, other 4xx are not retried; a circuit breaker per provider skips one that keeps failing.
public final class ProviderClient: Sendable {
    public let http: HTTPClient
    public let endpoints: [String: ProviderEndpoint]
    public let breaker: CircuitBreaker
    /// Retries of a 5xx inside one call. Default 2.
    public let serverErrorRetries: Int
    /// First wait before retrying a 5xx; doubled each time. Default 500 ms.
    public let serverErrorBackoff: Duration

    public init(
        http: HTTPClient, endpoints: [ProviderEndpoint], breaker: CircuitBreaker = CircuitBreaker(), serverErrorRetries: Int = 2,
        serverErrorBackoff: Duration = .milliseconds(500)
    ) {
        self.http = http
        self.endpoints = Dictionary(endpoints.map { ($0.name, $0) }, uniquingKeysWith: { _, b in b })
        self.breaker = breaker
        self.serverErrorRetries = serverErrorRetries
        self.serverErrorBackoff = serverErrorBackoff
    }

    // MARK: Chat

    /// Asks `model` for an answer of type `T`. `messages` may start with a system message.
    public func chat<T: StructuredOutput>(
        _ model: ModelRef, messages: [ChatMessage], as type: T.Type, maxTokens: Int = 512, temperature: Double = 0,
        deadline: ContinuousClock.Instant? = nil
    ) async throws -> ChatResult<T> {
        let endpoint = try self.endpoint(for: model)
        let schema = try JSONValue.parse(Array(T.jsonSchema.utf8))
        let started = ContinuousClock.now
        let body: JSONValue
        let path: String
        switch endpoint.api {
        case .openAICompatible:
            path = "/v1/chat/completions"
            body = .object([
                "model": .string(model.model), "temperature": .number(temperature), "max_tokens": .number(Double(maxTokens)),
                "messages": .array(messages.map { .object(["role": .string($0.role.rawValue), "content": .string($0.content)]) }),
                "response_format": .object([
                    "type": .string("json_schema"),
                    "json_schema": .object(["name": .string(T.schemaName), "schema": schema, "strict": .bool(true)]),
                ]),
            ])
        case .anthropic:
            path = "/v1/messages"
            let system = messages.filter { $0.role == .system }.map(\.content).joined(separator: "\n\n")
            var object: [String: JSONValue] = [
                "model": .string(model.model), "max_tokens": .number(Double(maxTokens)), "temperature": .number(temperature),
                "messages": .array(
                    messages.filter { $0.role != .system }.map { .object(["role": .string($0.role.rawValue), "content": .string($0.content)]) }),
                "tools": .array([
                    .object(["name": .string(T.schemaName), "description": .string("Record the answer."), "input_schema": schema])
                ]),
                "tool_choice": .object(["type": .string("tool"), "name": .string(T.schemaName)]),
            ]
            if !system.isEmpty { object["system"] = .string(system) }
            body = .object(object)
        }
        let (response, requests) = try await exchange(endpoint, model: model, path: path, body: body, deadline: deadline)
        guard let answer = try? JSONValue.parse(response.body) else { throw failure(model, response.status, .malformedResponse) }
        let outputJSON: [UInt8]
        let usage: TokenUsage
        switch endpoint.api {
        case .openAICompatible:
            guard let content = answer["choices"]?.elements.first?["message"]?["content"]?.string else {
                throw failure(model, response.status, .malformedResponse)
            }
            outputJSON = Array(Self.unfenced(content).utf8)
            usage = TokenUsage(
                prompt: Int(answer["usage"]?["prompt_tokens"]?.number ?? 0), completion: Int(answer["usage"]?["completion_tokens"]?.number ?? 0))
        case .anthropic:
            let blocks = answer["content"]?.elements ?? []
            if let tool = blocks.first(where: { $0["type"]?.string == "tool_use" }), let input = tool["input"] {
                outputJSON = Array(try JSONEncoder().encode(input))
            } else if let text = blocks.first(where: { $0["type"]?.string == "text" })?["text"]?.string {
                outputJSON = Array(Self.unfenced(text).utf8)
            } else {
                throw failure(model, response.status, .malformedResponse)
            }
            usage = TokenUsage(
                prompt: Int(answer["usage"]?["input_tokens"]?.number ?? 0), completion: Int(answer["usage"]?["output_tokens"]?.number ?? 0))
        }
        let output: T
        do {
            output = try JSONDecoder().decode(T.self, from: Data(outputJSON))
        } catch {
            throw failure(model, response.status, .invalidOutput(Self.reason(error)))
        }
        do { try output.validate() } catch { throw failure(model, response.status, .invalidOutput(error.reason)) }
        return ChatResult(output: output, model: model, usage: usage, latency: ContinuousClock.now - started, requests: requests)
    }

    // MARK: Embeddings

    /// Vectors for `texts` from an OpenAI-compatible `/v1/embeddings`, `batchSize` texts per request, in order.
    public func embed(_ model: ModelRef, texts: [String], batchSize: Int = 64, deadline: ContinuousClock.Instant? = nil) async throws -> (
        vectors: [[Float]], usage: TokenUsage, requests: Int
    ) {
        let endpoint = try self.endpoint(for: model)
        guard endpoint.api == .openAICompatible else { throw failure(model, nil, .rejected) }
        var vectors: [[Float]] = []
        var usage = TokenUsage()
        var requests = 0
        for start in stride(from: 0, to: texts.count, by: max(1, batchSize)) {
            let batch = Array(texts[start..<min(texts.count, start + max(1, batchSize))])
            let body: JSONValue = .object(["model": .string(model.model), "input": .array(batch.map(JSONValue.string))])
            let (response, n) = try await exchange(endpoint, model: model, path: "/v1/embeddings", body: body, deadline: deadline)
            requests += n
            guard let answer = try? JSONValue.parse(response.body) else { throw failure(model, response.status, .malformedResponse) }
            var byIndex: [Int: [Float]] = [:]
            for item in answer["data"]?.elements ?? [] {
                guard let i = item["index"]?.number, let values = item["embedding"]?.elements as [JSONValue]?, !values.isEmpty else { continue }
                byIndex[Int(i)] = values.map { Float($0.number ?? 0) }
            }
            guard byIndex.count == batch.count, let first = byIndex[0] else { throw failure(model, response.status, .malformedResponse) }
            for i in 0..<batch.count {
                guard let v = byIndex[i], v.count == first.count else { throw failure(model, response.status, .malformedResponse) }
                vectors.append(v)
            }
            usage.prompt += Int(answer["usage"]?["prompt_tokens"]?.number ?? 0)
        }
        return (vectors, usage, requests)
    }

    // MARK: One exchange

    private func endpoint(for model: ModelRef) throws -> ProviderEndpoint {
        guard let endpoint = endpoints[model.provider] else { throw failure(model, nil, .rejected, code: "no_endpoint") }
        return endpoint
    }

    /// Posts `body`; returns a 2xx response, retrying 5xx with backoff; throws a ``ProviderError`` otherwise.
    private func exchange(_ endpoint: ProviderEndpoint, model: ModelRef, path: String, body: JSONValue, deadline: ContinuousClock.Instant?)
        async throws -> (HTTPClient.Response, Int)
    {
        guard breaker.allows(endpoint.name) else { throw failure(model, nil, .circuitOpen) }
        let request = HTTPClient.Request(
            method: "POST", url: endpoint.baseURL + path, headers: endpoint.headers.map { HTTPClient.HeaderField($0.0, $0.1) },
            body: Array(try JSONEncoder().encode(body)), connectTimeout: endpoint.connectTimeout, timeout: endpoint.timeout,
            maxResponseBytes: 8 << 20,
            deadline: deadline)
        var attempt = 0
        var wait = serverErrorBackoff
        while true {
            attempt += 1
            let response: HTTPClient.Response
            do {
                response = try await http.execute(request)
            } catch let error as HTTPClientError {
                let kind: ProviderError.Kind =
                    switch error.code {
                    case .timedOut: .timedOut
                    case .cancelled: .cancelled
                    default: .unreachable  // refused, host not found, TLS, transport
                    }
                if kind != .cancelled { breaker.record(endpoint.name, success: false) }
                throw failure(model, nil, kind)
            }
            let status = response.status
            let code = Self.errorCode(response.body)
            switch status {
            case 200..<300:
                breaker.record(endpoint.name, success: true)
                return (response, attempt)
            case 429, 529:
                // The provider is alive; it wants us to slow down.
                breaker.record(endpoint.name, success: true)
                throw failure(
                    model, status, .rateLimited(retryAfter: RetryAdvice.delay(headers: response.headers.map { ($0.name, $0.value) })), code: code)
            case 401, 403:
                breaker.record(endpoint.name, success: true)
                throw failure(model, status, .unauthorized, code: code)
            case 400..<500:
                breaker.record(endpoint.name, success: true)
                throw failure(model, status, .rejected, code: code)
            default:
                guard attempt <= serverErrorRetries else {
                    breaker.record(endpoint.name, success: false)
                    throw failure(model, status, .serverError, code: code)
                }
                let advised = RetryAdvice.delay(headers: response.headers.map { ($0.name, $0.value) })
                try await Task.sleep(for: min(max(wait, advised ?? .zero), .seconds(10)))
                wait = wait * 2
            }
        }
    }

    private func failure(_ model: ModelRef, _ status: Int?, _ kind: ProviderError.Kind, code: String? = nil) -> ProviderError {
        ProviderError(provider: model.provider, model: model.model, status: status, kind: kind, code: code)
    }

    /// The provider's error type or code, only when it looks like an identifier (never its message).
    static func errorCode(_ body: [UInt8]) -> String? {
        guard body.count < 64 * 1024, let json = try? JSONValue.parse(body) else { return nil }
        let candidates = [json["error"]?["code"]?.string, json["error"]?["type"]?.string]
        return candidates.compactMap { $0 }.first {
            (1...64).contains($0.count) && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == ".") }
        }
    }

    /// A JSON answer some models wrap in a Markdown fence.
    static func unfenced(_ text: String) -> String {
        var t = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if t.hasPrefix("```") {
            if let newline = t.firstIndex(of: "\n") { t = String(t[t.index(after: newline)...]) }
            if t.hasSuffix("```") { t = String(t.dropLast(3)) }
        }
        return t
    }

    /// A decoding error as a reason without the answer's values.
    static func reason(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .keyNotFound(let key, _): "missing field \(key.stringValue)"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        case .dataCorrupted(let context):
            context.codingPath.isEmpty ? "not JSON" : "bad value at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        default: "does not decode"
        }
    }
}
