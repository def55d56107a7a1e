import Foundation
import SwitchboardProviders
import Synchronization
import Testing

@Suite("Providers: model names, retry advice, circuit breaker, fallback")
struct ProviderBasicsTests {
    @Test func modelNamesParseAndPrintBack() {
        #expect(ModelRef("openai:gpt-4o-mini") == ModelRef(provider: "openai", model: "gpt-4o-mini"))
        #expect(ModelRef("together:meta-llama/Llama-3.3-70B-Instruct-Turbo")?.model == "meta-llama/Llama-3.3-70B-Instruct-Turbo")
        #expect(ModelRef("embedded") == .embedded && ModelRef.embedded.description == "embedded")
        for bad in ["", "gpt-4o", "OpenAI:gpt", ":model", "openai:", "openai:two words"] { #expect(ModelRef(bad) == nil, "\(bad)") }
    }

    @Test func retryAdviceReadsEveryProvidersHeaders() throws {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(RetryAdvice.delay(headers: [("Retry-After", "2")], now: now) == .seconds(2))
        #expect(RetryAdvice.delay(headers: [("retry-after-ms", "1500")], now: now) == .milliseconds(1500))
        #expect(RetryAdvice.delay(headers: [("x-ratelimit-reset-requests", "6m0s")], now: now) == .seconds(360))
        #expect(RetryAdvice.delay(headers: [("x-ratelimit-reset-tokens", "20ms")], now: now) == .milliseconds(20))
        // An HTTP date and an RFC 3339 time, 30 s and 12 s after now.
        #expect(RetryAdvice.delay(headers: [("Retry-After", "Tue, 14 Nov 2023 22:13:50 GMT")], now: now) == .seconds(30))
        #expect(RetryAdvice.delay(headers: [("anthropic-ratelimit-requests-reset", "2023-11-14T22:13:32Z")], now: now) == .seconds(12))
        // The longest wins; nothing usable is nil.
        #expect(RetryAdvice.delay(headers: [("Retry-After", "1"), ("x-ratelimit-reset-requests", "3s")], now: now) == .seconds(3))
        #expect(RetryAdvice.delay(headers: [("Retry-After", "soon"), ("Content-Type", "x")], now: now) == nil)
    }

    @Test func theBreakerOpensAfterTheThresholdAndLetsOneProbeThroughAfterTheCoolDown() async throws {
        let breaker = CircuitBreaker(failureThreshold: 3, coolDown: .milliseconds(300))
        for _ in 0..<2 { breaker.record("p", success: false) }
        #expect(breaker.allows("p"))
        breaker.record("p", success: false)
        #expect(!breaker.allows("p") && breaker.state(of: "p") == "open")
        #expect(breaker.allows("q"), "another provider is not affected")
        try await Task.sleep(for: .milliseconds(400))
        #expect(breaker.allows("p"), "one probe after the cool-down")
        #expect(!breaker.allows("p"), "only one while it is out")
        breaker.record("p", success: false)
        #expect(!breaker.allows("p"), "a failed probe opens it again")
        try await Task.sleep(for: .milliseconds(400))
        #expect(breaker.allows("p"))
        breaker.record("p", success: true)
        #expect(breaker.allows("p") && breaker.allows("p") && breaker.state(of: "p") == "closed")
    }

    @Test func theChainRetriesAnInvalidAnswerOnceThenMovesOnAndEndsWithTheEmbeddedModel() async throws {
        let calls = CallLog()
        let result = try await FallbackChain.run(
            [ModelRef("a:bad")!, ModelRef("b:down")!, ModelRef("c:good")!],
            call: { model -> String in
                calls.append(model.description)
                switch model.model {
                case "bad":
                    throw ProviderError(provider: model.provider, model: model.model, status: 200, kind: .invalidOutput("missing field intent"))
                case "down": throw ProviderError(provider: model.provider, model: model.model, kind: .unreachable)
                default: return "answer"
                }
            }, embedded: { "embedded answer" })
        #expect(result.value == "answer" && result.model == ModelRef("c:good"))
        #expect(calls.all == ["a:bad", "a:bad", "b:down", "c:good"])

        let fallback = try await FallbackChain.run(
            [ModelRef("b:down")!], call: { model -> String in throw ProviderError(provider: model.provider, model: model.model, kind: .timedOut) },
            embedded: { "embedded answer" })
        #expect(fallback.value == "embedded answer" && fallback.model == .embedded && fallback.attempts.count == 2)

        await #expect(throws: RateLimitedChain.self) {
            _ = try await FallbackChain.run(
                [ModelRef("a:busy")!, ModelRef("c:good")!],
                call: { model -> String in
                    throw ProviderError(provider: model.provider, model: model.model, status: 429, kind: .rateLimited(retryAfter: .seconds(2)))
                }, embedded: { "never" })
        }
    }

    @Test func errorsNameProviderModelAndStatusAndNeverTheKey() {
        let key = APIKey("sk-live-0123456789")
        #expect("\(key)" == "[redacted]" && String(reflecting: key) == "[redacted]")
        let error = ProviderError(provider: "openai", model: "gpt-4o-mini", status: 401, kind: .unauthorized, code: "invalid_api_key")
        #expect("\(error)".contains("openai gpt-4o-mini: HTTP 401 (invalid_api_key)") && "\(error)".contains("providers set"))
    }
}

final class CallLog: Sendable {
    private let items = Mutex<[String]>([])
    func append(_ s: String) { items.withLock { $0.append(s) } }
    var all: [String] { items.withLock { $0 } }
}
