import Foundation
import SwitchboardEmbedding
import Testing

/// The model folder scripts/services fetched (SWITCHBOARD_MODEL_DIR in .switchboard-dev/env).
let modelDirectory: String? = ProcessInfo.processInfo.environment["SWITCHBOARD_MODEL_DIR"]

/// One encoder for the whole run: loading maps the weights once.
let sharedEncoder: Result<SentenceEncoder, any Error> = Result {
    guard let modelDirectory else { throw TestModelError() }
    return try SentenceEncoder(directory: modelDirectory)
}

struct TestModelError: Error, CustomStringConvertible {
    var description: String { "SWITCHBOARD_MODEL_DIR is not set: run the suite with scripts/test, or `eval \"$(scripts/services env)\"`" }
}

/// Token ids and sentence vectors written by scripts/reference/minilm_golden.py (Hugging Face `tokenizers` and an
/// independent numpy forward pass over the same weights).
struct GoldenCase: Decodable, Sendable, CustomTestStringConvertible {
    let text: String
    let ids: [Int32]
    let embedding: [Float]
    var testDescription: String { String(text.prefix(40)) }
}

let goldenCases: [GoldenCase] = {
    struct File: Decodable { let cases: [GoldenCase] }
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/minilm-golden.json")
    guard let data = try? Data(contentsOf: url), let file = try? JSONDecoder().decode(File.self, from: data) else {
        fatalError("cannot read \(url.path)")
    }
    return file.cases
}()

func cosine(_ a: [Float], _ b: [Float]) -> Float {
    var (dot, na, nb): (Float, Float, Float) = (0, 0, 0)
    for i in a.indices {
        dot += a[i] * b[i]
        na += a[i] * a[i]
        nb += b[i] * b[i]
    }
    return dot / (na.squareRoot() * nb.squareRoot())
}

@Suite("Embedded model: all-MiniLM-L6-v2 in Swift")
struct EmbeddingModelTests {
    @Test(arguments: goldenCases)
    func tokenIdsMatchTheReferenceTokenizer(_ golden: GoldenCase) throws {
        let encoder = try sharedEncoder.get()
        #expect(encoder.tokenizer.encode(golden.text, maxTokens: SentenceEncoder.maxTokens) == golden.ids)
    }

    @Test(arguments: goldenCases)
    func vectorsMatchTheReferenceForwardPass(_ golden: GoldenCase) throws {
        let encoder = try sharedEncoder.get()
        let vector = try #require(encoder.embed([golden.text]).first)
        #expect(vector.count == 384)
        let similarity = cosine(vector, golden.embedding)
        #expect(similarity >= 0.9999, "cosine \(similarity)")
        #expect(zip(vector.prefix(6), golden.embedding.prefix(6)).allSatisfy { abs($0 - $1) < 1e-3 })
    }

    @Test func aBatchGivesTheSameVectorsAsOneTextAtATime() throws {
        let encoder = try sharedEncoder.get()
        let texts = goldenCases.prefix(5).map(\.text)
        let batched = encoder.embed(texts)
        for (text, vector) in zip(texts, batched) {
            #expect(cosine(vector, encoder.embed([text])[0]) >= 0.99999)
        }
    }

    @Test func similarQuestionsAreCloserThanUnrelatedOnes() throws {
        let encoder = try sharedEncoder.get()
        let v = encoder.embed(["where is my order?", "has my package shipped yet", "what is your refund policy"])
        #expect(cosine(v[0], v[1]) > cosine(v[0], v[2]))
    }

    @Test func aMissingModelFolderIsAClearError() {
        #expect {
            _ = try SentenceEncoder(directory: "/nonexistent/model")
        } throws: { error in
            "\(error)".contains("scripts/fetch-model") && "\(error)".contains("/nonexistent/model/model.safetensors")
        }
    }

    @Test func aTruncatedWeightsFileIsAClearError() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("model-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var header = [UInt8](repeating: 0, count: 8)
        header[0] = 200  // claims a 200-byte header, then ends
        try Data(header + Array("{}".utf8)).write(to: directory.appendingPathComponent("model.safetensors"))
        #expect {
            _ = try SentenceEncoder(directory: directory.path)
        } throws: { error in
            "\(error)".contains("runs past the file") && "\(error)".contains("--force")
        }
    }
}

@Suite("Embedding service: own threads, bounded queue")
struct EmbeddingServiceTests {
    @Test func manyConcurrentCallersThroughASmallQueueAllGetTheirOwnVectors() async throws {
        let encoder = try sharedEncoder.get()
        let service = EmbeddingService(encoder: encoder, configuration: .init(threads: 1, queueLimit: 1, batchSize: 1))
        let texts = (0..<24).map { "question number \($0) about delivery" }
        let expected = encoder.embed(texts)
        let vectors = try await withThrowingTaskGroup(of: (Int, [Float]).self) { group in
            for (i, text) in texts.enumerated() { group.addTask { (i, try await service.embed(text)) } }
            var out = [[Float]](repeating: [], count: texts.count)
            for try await (i, v) in group { out[i] = v }
            return out
        }
        for (got, want) in zip(vectors, expected) { #expect(cosine(got, want) > 0.99999) }
        try await service.shutdown()
        await #expect(throws: EmbeddingModelError.shutDown) { _ = try await service.embed("after shutdown") }
    }
}
