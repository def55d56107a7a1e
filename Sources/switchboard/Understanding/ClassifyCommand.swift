import ArgumentParser
import Foundation
import SwitchboardEmbedding
import SwitchboardPostgres
import SwitchboardUnderstanding

/// `switchboard classify`: what Switchboard makes of one turn, as the pipeline will see it.
struct ClassifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Understand a turn: intents, out-of-scope, sentiment, urgency, entities, language.",
        discussion: """
            Personal data (emails, phone numbers, names, card numbers) is shown redacted unless --show-pii is given.
            With --tenant, the tenant's own intent model and out-of-scope threshold apply when it has them.

            Examples:
              switchboard classify "cancel my order 123456 and send me the invoice"
              switchboard classify "necesito 5 kg de tomate, es urgente!!" --json
              echo "where is my order?" | switchboard classify -
            """)
    @Argument(help: "The turn's text; `-` reads standard input.") var text: String?
    @Option(help: "Tenant id: use the tenant's intent model and threshold when it has them.") var tenant: String?
    @Option(help: "Messages in the burst this turn merged (three or more raise urgency).") var burst = 1
    @Option(help: "Country calling code for phone numbers written without one (e.g. 1, 34, 52).") var callingCode: String?
    @Flag(help: "Show personal data instead of placeholders.") var showPII = false
    @Flag(help: "Print one JSON object.") var json = false
    @Option(help: "Instead of a text: time RUNS passes over a fixed set of 1–3 sentence turns (use a release build).") var bench: Int?

    func validate() throws {
        guard (text == nil) != (bench == nil) else { throw ValidationError("give a text (or -), or --bench RUNS") }
        if let bench, bench < 1 { throw ValidationError("--bench takes a number of runs ≥ 1") }
    }

    func run() async throws {
        if let bench { return try await runBench(runs: bench) }
        var input = text ?? ""
        if input == "-" {
            let data = FileHandle.standardInput.readDataToEndOfFile()
            input = String(decoding: data, as: UTF8.self)  // invalid UTF-8 becomes U+FFFD
        }
        guard input.utf8.count <= 1_048_576 else {
            printError("error: the text is \(input.utf8.count) bytes; classify takes at most 1 MB (a turn is a few messages)")
            throw ExitCode(2)
        }
        let settings = try Settings.fromEnvironment()
        var model = try settings.intentModel()
        var threshold: Float?
        if let tenant {
            guard let id = UUID(uuidString: tenant) else { throw ValidationError("--tenant must be a tenant id (UUID)") }
            (model, threshold) = try await tenantModel(id, fallback: model)
        }
        let understanding = try await withEmbedder { embedder in
            var classifier = TurnClassifier(model: model, embedder: embedder, entities: EntityExtractor(defaultCallingCode: callingCode))
            classifier.outOfScopeThreshold = threshold
            return try await classifier.understand(input, burstSize: burst)
        }
        let shown = showPII ? understanding : understanding.redacted()
        if json { return print(try jsonText(shown)) }
        print(render(shown))
    }

    /// Turns of one to three sentences, English and Spanish, as customers write them.
    static let benchTurns = [
        "where is my order?",
        "I want to cancel order 4587345, it was a mistake.",
        "hi! can you send me the invoice for my last purchase? thanks",
        "I paid $160 for this order and it arrived damaged. I want a refund. Who can help me?",
        "hola, ¿cuánto cuesta la caja de tomate?",
        "necesito 5 kg de tomate roma y 2 cajas de cebolla. ¿llega mañana?",
        "my name is Anna Freeman, my email is anna@example.com. please update my shipping address",
        "cancel my order and send me the invoice",
    ]

    private func runBench(runs: Int) async throws {
        let model = try Settings.fromEnvironment().intentModel()
        typealias Row = (part: String, p50: Double, p95: Double, max: Double)
        func summary(_ name: String, _ values: [Double]) -> Row {
            let sorted = values.sorted()
            return (name, sorted[sorted.count / 2], sorted[min(sorted.count - 1, sorted.count * 95 / 100)], sorted.last!)
        }
        let (rows, perTurn) = try await withEmbedder { embedder in
            let classifier = TurnClassifier(model: model, embedder: embedder)
            for turn in Self.benchTurns { _ = try await classifier.understand(turn) }  // warm-up
            var total: [Double] = []
            var embedding: [Double] = []
            var heads: [Double] = []
            var byTurn = [[Double]](repeating: [], count: Self.benchTurns.count)
            var tokens = [Int](repeating: 0, count: Self.benchTurns.count)
            for _ in 0..<runs {
                for (n, turn) in Self.benchTurns.enumerated() {
                    let u = try await classifier.understand(turn)
                    total.append(u.timings.totalMs)
                    embedding.append(u.timings.embeddingMs)
                    heads.append(u.timings.headsMs)
                    byTurn[n].append(u.timings.totalMs)
                    tokens[n] = u.parts.map { embedder.encoder.tokenizer.encode($0.segment.text, maxTokens: 256).count }.reduce(0, +)
                }
            }
            let rows = [summary("total", total), summary("embedding", embedding), summary("everything else", heads)]
            let perTurn = Self.benchTurns.indices.map { summary("turn \($0 + 1) (\(tokens[$0]) tokens)", byTurn[$0]) }
            return (rows, perTurn)
        }
        if json {
            struct Output: Encodable {
                let part: String
                let p50Ms, p95Ms, maxMs: Double
            }
            return print(try jsonText((rows + perTurn).map { Output(part: $0.part, p50Ms: $0.p50, p95Ms: $0.p95, maxMs: $0.max) }))
        }
        print(
            Table(headers: ["PART", "P50 MS", "P95 MS", "MAX MS"], rows: (rows + perTurn).map { [$0.part, "\($0.p50)", "\($0.p95)", "\($0.max)"] })
                .render())
        print("\(runs) passes over \(Self.benchTurns.count) turns of 1–3 sentences; one embedding thread; OpenBLAS \(BLASCore.active)")
    }

    private func tenantModel(_ tenant: UUID, fallback: IntentModel) async throws -> (IntentModel, Float?) {
        try await withDatabase { _, db in
            let store = IntentModelStore(db: db)
            let stored = try await store.load(tenant: tenant)
            return (stored.model ?? fallback, stored.threshold)
        }
    }

    private func render(_ u: TurnUnderstanding) -> String {
        var lines: [String] = []
        if u.intents.isEmpty {
            lines.append("intents: none in scope (similarity \(u.similarity) < threshold \(u.outOfScopeThreshold)) → a person")
        } else {
            lines.append("intents:")
            for intent in u.intents {
                lines.append("  \(intent.name)  \(intent.confidence)  (\(intent.source.rawValue), part \(intent.segment + 1))")
            }
        }
        lines.append(
            "out of scope: \(u.outOfScope ? "yes" : "no") (similarity \(u.similarity), threshold \(u.outOfScopeThreshold); best confidence \(u.confidence))"
        )
        lines.append(
            "sentiment: \(u.sentiment.label.rawValue) (\(u.sentiment.score))   urgency: \(u.urgency.rawValue)   language: \(u.language.rawValue)")
        if !u.entities.isEmpty {
            lines.append("entities:")
            for e in u.entities {
                lines.append("  \(e.kind.rawValue)  \(e.value)\(e.currency.map { " \($0)" } ?? "")  [\(e.start)..<\(e.end)]")
            }
        }
        if u.parts.count > 1 {
            lines.append("parts:")
            for part in u.parts {
                let top = part.top.prefix(2).map { "\($0.intent) \($0.confidence)" }.joined(separator: ", ")
                lines.append("  \"\(part.segment.text.prefix(60))\" → \(top)\(part.inScope ? "" : " (out of scope)")")
            }
        }
        lines.append("latency: \(u.timings.totalMs) ms (embedding \(u.timings.embeddingMs) ms, the rest \(u.timings.headsMs) ms)")
        return lines.joined(separator: "\n")
    }
}
