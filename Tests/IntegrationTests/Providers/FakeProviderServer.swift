import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import SwitchboardJSON
import Synchronization

/// A local server that answers as OpenAI-compatible APIs and Anthropic document it, with the behaviour chosen by the
/// model named in the request: "good", "fenced", "bad" (wrong type), "out-of-range", "limited" (429, Retry-After: 2),
/// "limited-once", "boom" (500), "flaky" (500 twice, then good), "denied" (401), "slow" (answers after 3 s). A request
/// for the "reply" schema is answered with ``reply``.
final class FakeProviderServer: Sendable {
    struct Seen: Sendable {
        let path: String
        let model: String
        let headers: [String: String]
        let body: JSONValue
        let at: ContinuousClock.Instant
    }
    private let seen = Mutex<[Seen]>([])
    private let counters = Mutex<[String: Int]>([:])

    var requests: [Seen] { seen.withLock { $0 } }
    func requests(model: String) -> [Seen] { requests.filter { $0.model == model } }

    static let answer = #"{"intent":"place_order","confidence":0.93}"#
    /// What a reply agent (schema "reply") is answered.
    static let reply = #"{"reply":"From the hosted model: we email every invoice as a PDF."}"#

    private func record(_ request: Request, body: ByteBuffer) -> (JSONValue, String, Int) {
        let json = (try? JSONValue.parse(Array(body.readableBytesView))) ?? .null
        let model = json["model"]?.string ?? ""
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        seen.withLock { $0.append(Seen(path: request.uri.path, model: model, headers: headers, body: json, at: .now)) }
        let n = counters.withLock { c -> Int in
            c[model, default: 0] += 1
            return c[model]!
        }
        return (json, model, n)
    }

    private static func json(_ status: HTTPResponse.Status, _ text: String, headers: HTTPFields = [:]) -> Response {
        var h = headers
        h[.contentType] = "application/json"
        return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// The behaviour shared by both APIs; nil means "answer normally".
    private func trouble(_ model: String, attempt: Int) async throws -> Response? {
        switch model {
        case "limited",
            "limited-once" where attempt == 1:
            return Self.json(
                .tooManyRequests,
                #"{"error":{"message":"Rate limit reached for sk-test-SECRET-KEY","type":"requests","code":"rate_limit_exceeded"}}"#,
                headers: [HTTPField.Name("Retry-After")!: "2"])
        case "boom",
            "flaky" where attempt <= 2:
            return Self.json(.internalServerError, #"{"error":{"message":"The server had an error","type":"server_error"}}"#)
        case "denied":
            return Self.json(
                .unauthorized,
                #"{"error":{"message":"Incorrect API key provided: sk-test-SECRET-KEY","type":"invalid_request_error","code":"invalid_api_key"}}"#)
        case "slow":
            try await Task.sleep(for: .seconds(3))
            return nil
        default: return nil
        }
    }

    func run(_ body: @Sendable (Int) async throws -> Void) async throws {
        let router = Router()
        router.post("/v1/chat/completions") { request, _ -> Response in
            let (json, model, n) = self.record(request, body: try await request.body.collect(upTo: 1 << 20))
            if let trouble = try await self.trouble(model, attempt: n) { return trouble }
            let schema = json["response_format"]?["json_schema"]?["name"]?.string
            let content: String =
                switch model {
                case _ where schema == "probe": #"{"ok": true}"#
                case _ where schema == "reply": Self.reply
                case "fenced": "```json\n\(Self.answer)\n```"
                case "bad": #"{"intent": 5, "confidence": 0.5}"#
                case "out-of-range": #"{"intent": "place_order", "confidence": 7}"#
                default: Self.answer
                }
            let escaped = String(decoding: try JSONEncoder().encode(content), as: UTF8.self)
            return Self.json(
                .ok,
                """
                {"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"\(model)",
                 "choices":[{"index":0,"message":{"role":"assistant","content":\(escaped)},"finish_reason":"stop"}],
                 "usage":{"prompt_tokens":20,"completion_tokens":7,"total_tokens":27}}
                """)
        }
        router.post("/v1/messages") { request, _ -> Response in
            let (_, model, n) = self.record(request, body: try await request.body.collect(upTo: 1 << 20))
            if let trouble = try await self.trouble(model, attempt: n) { return trouble }
            let block =
                model == "claude-text"
                ? #"{"type":"text","text":"\#(Self.answer.replacingOccurrences(of: "\"", with: "\\\""))"}"#
                : #"{"type":"tool_use","id":"toolu_1","name":"intent","input":\#(Self.answer)}"#
            return Self.json(
                .ok,
                """
                {"id":"msg_1","type":"message","role":"assistant","model":"\(model)","content":[\(block)],
                 "stop_reason":"tool_use","usage":{"input_tokens":31,"output_tokens":9}}
                """)
        }
        router.post("/v1/embeddings") { request, _ -> Response in
            let (json, model, n) = self.record(request, body: try await request.body.collect(upTo: 1 << 20))
            if let trouble = try await self.trouble(model, attempt: n) { return trouble }
            let inputs = json["input"]?.elements.compactMap(\.string) ?? []
            // Items in reverse order: the client must place them by index.
            let items = inputs.enumerated().reversed().map { i, text in
                #"{"object":"embedding","index":\#(i),"embedding":[\#(text.count),\#(i),1.0]}"#
            }
            return Self.json(
                .ok,
                #"{"object":"list","data":[\#(items.joined(separator: ","))],"model":"\#(model)","usage":{"prompt_tokens":\#(inputs.count * 3),"total_tokens":\#(inputs.count * 3)}}"#
            )
        }
        try await withLocalServer(router, label: "fake-provider", body)
    }
}
