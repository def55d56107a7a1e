import Foundation
import Logging
import SwitchboardHTTP
import SwitchboardJSON
import SwitchboardProviders
@testable import SwitchboardQueue
import SwitchboardRedis
import Synchronization
import Testing

/// The answer the fake providers give, as a structured output type.
struct IntentAnswer: StructuredOutput, Equatable {
    let intent: String
    let confidence: Double
    static let schemaName = "intent"
    static let jsonSchema = """
        {"type":"object","properties":{"intent":{"type":"string"},"confidence":{"type":"number"}},
         "required":["intent","confidence"],"additionalProperties":false}
        """
    func validate() throws(InvalidOutput) {
        guard (0...1).contains(confidence) else { throw InvalidOutput("confidence outside 0…1") }
    }
}

private let secret = APIKey("sk-test-SECRET-KEY")
private let prompt = [ChatMessage(.system, "You classify requests."), ChatMessage(.user, "quiero 5 kg de tomate, soy Ana Pérez")]

private func client(_ port: Int, timeout: Duration = .seconds(10), breaker: CircuitBreaker = CircuitBreaker()) -> ProviderClient {
    ProviderClient(
        http: HTTPClient(poolSize: 4),
        endpoints: [
            ProviderEndpoint(name: "openai", api: .openAICompatible, baseURL: "http://127.0.0.1:\(port)", apiKey: secret, timeout: timeout),
            ProviderEndpoint(name: "anthropic", api: .anthropic, baseURL: "http://127.0.0.1:\(port)/", apiKey: secret, timeout: timeout),
            // Nothing listens on port 1: connection refused.
            ProviderEndpoint(name: "down", api: .openAICompatible, baseURL: "http://127.0.0.1:1", apiKey: secret),
        ], breaker: breaker, serverErrorBackoff: .milliseconds(300))
}

private func expectNoSecrets(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(!text.contains("SECRET"), "the key leaked", sourceLocation: sourceLocation)
    #expect(!text.contains("tomate") && !text.contains("Ana"), "the prompt leaked", sourceLocation: sourceLocation)
}

@Suite("Providers against local servers in their documented shapes", .serialized, .timeLimit(.minutes(3)))
struct ProviderClientTests {
    @Test func openAICompatibleChatReturnsTheStructuredAnswerAndItsUsage() async throws {
        let server = FakeProviderServer()
        try await server.run { port in
            let providers = client(port)
            let result = try await providers.chat(ModelRef("openai:good")!, messages: prompt, as: IntentAnswer.self)
            #expect(result.output == IntentAnswer(intent: "place_order", confidence: 0.93))
            #expect(result.usage == TokenUsage(prompt: 20, completion: 7) && result.requests == 1)
            let fenced = try await providers.chat(ModelRef("openai:fenced")!, messages: prompt, as: IntentAnswer.self)
            #expect(fenced.output.intent == "place_order")
            let sent = try #require(server.requests(model: "good").first)
            #expect(sent.headers["authorization"] == "Bearer sk-test-SECRET-KEY")
            #expect(sent.body["response_format"]?["json_schema"]?["name"]?.string == "intent")
            #expect(sent.body["response_format"]?["json_schema"]?["strict"]?.bool == true)
            #expect(sent.body["messages"]?.elements.map { $0["role"]?.string } == ["system", "user"])
            try await providers.http.shutdown()
        }
    }

    @Test func anthropicAnswersThroughAToolAndSendsItsHeaders() async throws {
        let server = FakeProviderServer()
        try await server.run { port in
            let providers = client(port)
            let result = try await providers.chat(ModelRef("anthropic:claude-good")!, messages: prompt, as: IntentAnswer.self)
            #expect(result.output == IntentAnswer(intent: "place_order", confidence: 0.93))
            #expect(result.usage == TokenUsage(prompt: 31, completion: 9))
            let text = try await providers.chat(ModelRef("anthropic:claude-text")!, messages: prompt, as: IntentAnswer.self)
            #expect(text.output.confidence == 0.93)
            let sent = try #require(server.requests(model: "claude-good").first)
            #expect(
                sent.path == "/v1/messages" && sent.headers["x-api-key"] == "sk-test-SECRET-KEY" && sent.headers["anthropic-version"] == "2023-06-01")
            #expect(sent.body["system"]?.string == "You classify requests.")
            #expect(sent.body["tool_choice"]?["name"]?.string == "intent" && sent.body["tools"]?.elements.first?["input_schema"]?.isObject == true)
            try await providers.http.shutdown()
        }
    }

    @Test func embeddingsAreBatchedAndPlacedByIndex() async throws {
        let server = FakeProviderServer()
        try await server.run { port in
            let providers = client(port)
            let texts = ["a", "bb", "ccc", "dddd", "eeeee"]
            let result = try await providers.embed(ModelRef("openai:text-embedding-3-small")!, texts: texts, batchSize: 2)
            #expect(result.requests == 3 && server.requests.count == 3)
            #expect(result.vectors.map { Int($0[0]) } == [1, 2, 3, 4, 5])
            #expect(result.usage.prompt == 15)
            try await providers.http.shutdown()
        }
    }

    @Test func anAnswerThatBreaksTheSchemaIsAskedOnceMoreThenTheNextModelAnswers() async throws {
        let server = FakeProviderServer()
        try await server.run { port in
            let providers = client(port)
            let chain = [ModelRef("openai:bad")!, ModelRef("openai:out-of-range")!, ModelRef("anthropic:claude-good")!]
            let result = try await FallbackChain.run(
                chain, call: { try await providers.chat($0, messages: prompt, as: IntentAnswer.self).output },
                embedded: { IntentAnswer(intent: "embedded", confidence: 0.5) })
            #expect(result.model == ModelRef("anthropic:claude-good") && result.value.intent == "place_order")
            #expect(server.requests(model: "bad").count == 2 && server.requests(model: "out-of-range").count == 2)
            let reasons = result.attempts.compactMap(\.error).map(\.description)
            #expect(reasons.contains { $0.contains("missing field") || $0.contains("wrong type at intent") })
            #expect(reasons.contains { $0.contains("confidence outside 0…1") })
            for r in reasons { expectNoSecrets(r) }
            try await providers.http.shutdown()
        }
    }

    @Test func providersDownFallThroughToTheEmbeddedModelAndTheTurnCompletes() async throws {
        let server = FakeProviderServer()
        try await server.run { port in
            let providers = client(port)
            let started = ContinuousClock.now
            let result = try await FallbackChain.run(
                [ModelRef("down:gpt-4o-mini")!, ModelRef("openai:boom")!],
                call: { try await providers.chat($0, messages: prompt, as: IntentAnswer.self).output },
                embedded: { IntentAnswer(intent: "embedded", confidence: 0.6) })
            #expect(result.model == .embedded && result.value.intent == "embedded")
            // Refused at once; the 500 retried twice with backoff (0.3 s, then 0.6 s) before moving on.
            #expect(server.requests(model: "boom").count == 3)
            #expect(ContinuousClock.now - started >= .milliseconds(900))
            #expect(result.attempts.map { "\($0.model)" } == ["down:gpt-4o-mini", "openai:boom", "embedded"])
            #expect(result.attempts[0].error?.kind == .unreachable && result.attempts[1].error?.kind == .serverError)
            try await providers.http.shutdown()
        }
    }

    @Test func aServerErrorIsRetriedWithBackoffAndThenSucceeds() async throws {
        let server = FakeProviderServer()
        try await server.run { port in
            let providers = client(port)
            let result = try await providers.chat(ModelRef("openai:flaky")!, messages: prompt, as: IntentAnswer.self)
            #expect(result.requests == 3 && result.output.intent == "place_order")
            let times = server.requests(model: "flaky").map(\.at)
            #expect(times[1] - times[0] >= .milliseconds(300) && times[2] - times[1] >= .milliseconds(600))
            try await providers.http.shutdown()
        }
    }

    @Test func aRefusedKeyIsOneClearErrorWithNoRetryAndNoKeyOrPromptInIt() async throws {
        let server = FakeProviderServer()
        try await server.run { port in
            let providers = client(port)
            do {
                _ = try await providers.chat(ModelRef("openai:denied")!, messages: prompt, as: IntentAnswer.self)
                Issue.record("a 401 must throw")
            } catch let error as ProviderError {
                #expect(error.kind == .unauthorized && error.status == 401 && error.code == "invalid_api_key")
                #expect("\(error)".contains("openai denied: HTTP 401"))
                expectNoSecrets("\(error)")
                expectNoSecrets(String(reflecting: error))
            }
            #expect(server.requests(model: "denied").count == 1)
            try await providers.http.shutdown()
        }
    }

    @Test func withOneProviderHangingTheBreakerKeeps100CallsFromEachWaitingTheTimeout() async throws {
        let server = FakeProviderServer()
        try await server.run { port in
            let providers = client(port, timeout: .seconds(1), breaker: CircuitBreaker(failureThreshold: 3, coolDown: .seconds(60)))
            let started = ContinuousClock.now
            var kinds: [ProviderError.Kind] = []
            for _ in 0..<100 {
                let result = try await FallbackChain.run(
                    [ModelRef("openai:slow")!], call: { try await providers.chat($0, messages: prompt, as: IntentAnswer.self).output },
                    embedded: { IntentAnswer(intent: "embedded", confidence: 0.5) })
                #expect(result.model == .embedded)
                kinds += result.attempts.compactMap(\.error?.kind)
            }
            let elapsed = ContinuousClock.now - started
            // Three calls wait out the 1 s timeout; the breaker answers the other 97 at once.
            #expect(kinds.filter { $0 == .timedOut }.count == 3 && kinds.filter { $0 == .circuitOpen }.count == 97)
            #expect(elapsed < .seconds(10), "100 calls took \(elapsed); without the breaker they take 100 s")
            print("breaker: 100 calls against a hanging provider took \(elapsed) (3 timeouts of 1 s, 97 skipped)")
            try await providers.http.shutdown()
        }
    }
}

/// A job that asks a model and, when the provider says to wait, is rescheduled for then.
struct AskModel: JobParameters {
    static let jobName = "test-ask-model"
    let port: Int
    let model: String
}

@Suite("Providers: a 429 reschedules the job", .serialized, .timeLimit(.minutes(2)))
struct ProviderRateLimitJobTests {
    @Test func retryAfterIsHonouredByReschedulingTheJobNotBySleepingInItsSlot() async throws {
        let server = FakeProviderServer()
        try await server.run { port in
            let redis = try makeRedis()
            let queue = uniqueQueueName("ask")
            let providers = client(port)
            let answered = Mutex<[String]>([])
            let log = CapturedLog()
            let registry = JobRegistry()
            registry.register(AskModel.self) { p, _ in
                do {
                    let result = try await FallbackChain.run(
                        [ModelRef(p.model)!], call: { try await providers.chat($0, messages: prompt, as: IntentAnswer.self).output },
                        embedded: { IntentAnswer(intent: "embedded", confidence: 0.5) })
                    answered.withLock { $0.append("\(p.model) \(result.value.intent)") }
                } catch let limited as RateLimitedChain {
                    throw RetryLater(after: limited.retryAfter ?? .seconds(1), limited.description)
                }
            }
            let worker = QueueWorker(
                redis: redis, registry: registry, options: fastWorkerOptions(queue: queue, concurrency: 1),
                logger: Logger(label: "ask") { _ in CapturingLogHandler(log: log) })
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await worker.run() }
                let q = JobQueue(redis: redis)
                _ = try await q.enqueue(AskModel(port: port, model: "openai:limited-once"), options: .init(queue: queue))
                try await expectEventually(timeout: .seconds(5)) { server.requests(model: "limited-once").count == 1 }
                // The one slot is free while the limited job waits: another job runs at once.
                _ = try await q.enqueue(AskModel(port: port, model: "openai:good"), options: .init(queue: queue))
                try await expectEventually(timeout: .seconds(15)) { answered.withLock { $0.count } == 2 }
                worker.stop()
                try await group.waitForAll()
            }
            #expect(answered.withLock { $0 } == ["openai:good place_order", "openai:limited-once place_order"])
            let times = server.requests(model: "limited-once").map(\.at)
            #expect(times.count == 2 && times[1] - times[0] >= .seconds(2), "Retry-After: 2 honoured")
            let good = try #require(server.requests(model: "good").first?.at)
            #expect(good - times[0] < .seconds(2), "the slot was not held while waiting")
            // The failure line names provider, model and status, and neither the key nor the prompt.
            let lines = log.all.map { "\($0.message) \($0.metadata)" }
            #expect(lines.contains { $0.contains("openai limited-once: HTTP 429") })
            for line in lines { expectNoSecrets(line) }
            try await providers.http.shutdown()
            try await redis.shutdown()
        }
    }
}
