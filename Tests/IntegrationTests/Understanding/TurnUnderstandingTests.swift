import Foundation
import SwitchboardEmbedding
import SwitchboardUnderstanding
import Testing

/// The shipped intent model (Models/intents) on the real embedded model: multi-intent turns, out of scope, Spanish,
/// entities, hostile input; and training that gives the same bytes twice.
@Suite("Turn understanding", .serialized, .timeLimit(.minutes(4)))
struct TurnUnderstandingTests {
    static let shippedModel = TestEnvironment.packageRoot.appendingPathComponent("Models/intents/intents.sbm").path

    func classifier() throws -> TurnClassifier {
        TurnClassifier(model: try IntentModelFile.read(path: Self.shippedModel), embedder: try sharedEmbedder.get())
    }

    @Test func shippedModelMatchesItsManifest() throws {
        let model = try IntentModelFile.read(path: Self.shippedModel)
        let manifestURL = TestEnvironment.packageRoot.appendingPathComponent("Models/intents/manifest.json")
        let manifest = try JSONDecoder().decode(IntentModelManifest.self, from: Data(contentsOf: manifestURL))
        #expect(manifest.modelSHA256 == model.manifest.modelSHA256)
        #expect(manifest.labels == model.labels.count && model.labels.count == 27)
        #expect(manifest.outOfScope != nil && model.outOfScopeThreshold > 0.3 && model.outOfScopeThreshold < 0.9)
        // The committed data the manifest names is the data in the clone.
        let data = try IntentDataReader.read(path: TestEnvironment.packageRoot.appendingPathComponent("Models/intents/examples.csv").path)
        #expect(data.sha256 == manifest.dataSHA256)
    }

    @Test func twoRequestsInOneTurnAreBothFound() async throws {
        let c = try classifier()
        for text in [
            "I want to cancel my order 4587345 and also I need the invoice for it", "cancel my order and send me the invoice",
            "how do I cancel order 123456?\nwhere can I see my invoice #00108",
        ] {
            let u = try await c.understand(text)
            let names = u.intents.map(\.name)
            #expect(names.contains("cancel_order"), "\(text): \(names)")
            #expect(names.contains { $0 == "get_invoice" || $0 == "check_invoice" }, "\(text): \(names)")
        }
        // Trouble first: the complaint outranks the question about delivery options.
        let ordered = try await c.understand("what delivery options do you have? also, I want to file a complaint about my last order")
        #expect(ordered.intents.first?.name == "complaint", "\(ordered.intents.map(\.name))")
    }

    @Test func outOfScopeGoesToAPerson() async throws {
        let c = try classifier()
        for text in ["how many moons does jupiter have", "what is the capital of australia", "write me a poem about the sea"] {
            let u = try await c.understand(text)
            #expect(u.outOfScope, "\(text): \(u.intents.map(\.name)) at \(u.confidence)")
        }
        let inScope = try await c.understand("I want to track my refund")
        #expect(!inScope.outOfScope && inScope.intents.first?.name == "track_refund")
    }

    @Test func spanishTurnsUseTheLexiconAndTheOrderLines() async throws {
        let c = try classifier()
        let order = try await c.understand("hola! necesito 5 kg de tomate roma y 2 cajas de cebolla para mañana")
        #expect(order.language == .spanish)
        #expect(Set(order.intents.map(\.name)).isSuperset(of: ["greeting", "place_order"]), "\(order.intents)")
        #expect(order.entities.contains { $0.kind == .date && $0.value == "manana" })
        let human = try await c.understand("quiero hablar con una persona, es urgente")
        #expect(human.intents.map(\.name).contains("contact_human_agent") && human.urgency >= .high)
        // Spanish the lexicon does not cover stays under the automation bar: a person (or the LLM) answers it.
        let other = try await c.understand("¿puedo pagar con transferencia bancaria a fin de mes?")
        #expect(other.intents.allSatisfy { $0.confidence < 0.95 }, "\(other.intents)")
    }

    @Test func entitiesComeBackRedactedOnRequest() async throws {
        let u = try await classifier().understand("I'm Anna Freeman (anna@example.com, +34 612 345 678): refund $160 for order 4587345")
        let kinds = Set(u.entities.map(\.kind))
        #expect(kinds.isSuperset(of: [.personName, .email, .phone, .amount, .orderID]))
        let redacted = try String(decoding: JSONEncoder().encode(u.redacted()), as: UTF8.self)
        for secret in ["Anna", "Freeman", "anna@example.com", "612 345"] { #expect(!redacted.contains(secret)) }
        #expect(redacted.contains("4587345"))
    }

    @Test(
        "hostile input gets an answer, not a crash",
        arguments: [
            "", String(repeating: "x", count: 100_000), String(repeating: "😀", count: 500), String(repeating: "refund ", count: 10_000),
            String(decoding: [0xff, 0xfe, 0xfd] + Array("where is my order".utf8) + [0xc3], as: UTF8.self), "   \n\n\t  ",
            String(repeating: "Hi. ", count: 3_000),
        ])
    func hostile(_ text: String) async throws {
        let started = ContinuousClock.now
        let u = try await classifier().understand(text)
        #expect(u.parts.count <= TurnSegmenter().maximumSegments * 2)
        #expect(ContinuousClock.now - started < .seconds(20))
        if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { #expect(u.outOfScope && u.intents.isEmpty) }
    }

    @Test func trainingTwiceGivesTheSameBytes() async throws {
        let embedder = try sharedEmbedder.get()
        let rows = smallTrainingSet
        let vectors = try await embedder.embed(rows.map(\.text))
        let examples = zip(rows, vectors).map { IntentExample(text: $0.text, label: $0.intent, vector: $1) }
        let outside = ["what is the weather on mars", "recommend a good novel", "how tall is the eiffel tower"]
        let oosVectors = try await embedder.embed(outside)
        let oos = zip(outside, oosVectors).map { IntentExample(text: $0, label: "", vector: $1) }
        var settings = IntentTrainer.Settings()
        settings.folds = 3
        settings.iterations = 80
        settings.grams = CharGramFeatures(buckets: 512)
        let trainer = IntentTrainer(settings: settings)
        let first = try IntentModelFile.encode(try trainer.train(examples, outOfScope: oos, dataSHA256: "test").model)
        let second = try IntentModelFile.encode(try await trainer.trainDetached(examples, outOfScope: oos, dataSHA256: "test"))
        #expect(first == second)
        // A different seed shuffles the folds: the calibration (and so the bytes) may change, the labels do not.
        let decoded = try IntentModelFile.decode(first)
        #expect(decoded.labels == ["greeting_hours", "refund", "track"])
        let probe = try await embedder.embed("when do you open on saturday")
        #expect(decoded.ranked(vector: probe, text: "when do you open on saturday").first?.label == "greeting_hours")
    }
}

/// Three intents, eight phrasings each: enough to train on in a second.
let smallTrainingSet: [LabelledText] = {
    let data: [String: [String]] = [
        "track": [
            "where is my order", "track my package", "has my order shipped", "when will my parcel arrive", "order status please",
            "I want to know where my delivery is", "tracking number for my order", "is my order on the way",
        ],
        "refund": [
            "I want my money back", "refund my purchase", "how do I get a refund", "return this and refund me", "refund please",
            "can I get reimbursed", "money back for the broken item", "request a refund",
        ],
        "greeting_hours": [
            "what time do you open", "opening hours", "are you open on sunday", "when do you close today", "store hours please",
            "what are your hours", "open tomorrow morning?", "closing time",
        ],
    ]
    return data.sorted { $0.key < $1.key }.flatMap { intent, texts in texts.map { LabelledText(text: $0, intent: intent) } }
}()
