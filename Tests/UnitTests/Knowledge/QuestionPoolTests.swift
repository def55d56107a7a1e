import Foundation
@testable import SwitchboardKnowledge
import Testing

@Suite("Help-center search: article vectors and the question pool")
struct QuestionPoolTests {
    /// A unit vector of 8 dimensions from its first components.
    static func unit(_ values: Float...) -> [Float] {
        var v = values + [Float](repeating: 0, count: 8 - values.count)
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        for i in v.indices { v[i] /= norm }
        return v
    }

    static func chunk(_ article: UUID, _ vector: [Float]) -> ChunkVector {
        ChunkVector(chunkID: UUID(), articleID: article, externalID: "kb-\(article.uuidString.prefix(4))", title: "", text: "", vector: vector)
    }

    @Test func aPoolFileRoundTripsAndADamagedOneIsRefusedWithWhatToDo() throws {
        let pool = QuestionPool(modelID: "all-MiniLM-L6-v2", vectors: [Self.unit(1, 2, 3), Self.unit(0, 1), Self.unit(3, 0, 0, 1)])
        let bytes = pool.encoded()
        let back = try QuestionPool.decode(bytes)
        #expect(back.modelID == "all-MiniLM-L6-v2" && back.count == 3 && back.dimension == 8)
        for (a, b) in zip(pool.matrix, back.matrix) { #expect(abs(a - b) < 0.001) }
        #expect(QuestionPool.sha256(bytes) == QuestionPool.sha256(back.encoded()), "16-bit values encode the same again")
        #expect(throws: QuestionPoolError.self) { try QuestionPool.decode(Array(bytes.dropLast(3))) }
        #expect(throws: QuestionPoolError.self) { try QuestionPool.decode(Array("not a pool".utf8)) }
        let missing = QuestionPoolError.unreadable("/nowhere/pool.sbq").description
        #expect(missing.contains("switchboard train question-pool") && missing.contains("SWITCHBOARD_QUESTION_POOL"))
    }

    @Test func neighboursAreTheNearOnesAboveTheFloorNearestFirstButNeverTheQuestionItself() {
        let query = Self.unit(1, 0)
        let pool = QuestionPool(
            modelID: "m",
            vectors: [
                Self.unit(1, 0),  // the question itself
                Self.unit(1, 1),  // cosine 0.71
                Self.unit(1, 0.2),  // 0.98
                Self.unit(0, 1),  // 0: not the same question
                Self.unit(1, 3),  // 0.32: below the floor
            ])
        let near = pool.neighbours(of: query)
        #expect(near.map(\.index) == [2, 1])
        #expect(abs(near[0].weight - (0.9806 - QuestionPool.floor)) < 0.001)
        let many = QuestionPool(modelID: "m", vectors: (0..<50).map { Self.unit(1, Float($0) / 100) })
        #expect(many.neighbours(of: query).count == QuestionPool.limit)
    }

    @Test func anArticleIsScoredByItsPassagesMeanAndANearPoolQuestionCanTipATie() {
        let (a, b) = (UUID(), UUID())
        // Article a: two passages along x; b: one along y and one between.
        let chunks = [
            Self.chunk(a, Self.unit(1, 0)), Self.chunk(a, Self.unit(1, 0.1)), Self.chunk(b, Self.unit(0, 1)), Self.chunk(b, Self.unit(1, 1)),
        ]
        let alone = DenseIndex(generation: 1, chunks: chunks)
        let onX = alone.rankArticles(Self.unit(1, 0))
        #expect(onX.first?.article == a && onX.first?.chunk == 1, "the body passage is quoted, not the title passage")
        // A question halfway between the two articles' vectors: a near tie, alone.
        let between = Self.unit(1, 0.74, 0, 0.1)
        let tie = alone.rankArticles(between)
        #expect(tie.first?.article == a && abs(tie[0].score - tie[1].score) < 0.02)
        // Customers who asked nearly the same question were clearly about b: borrowing from them decides it.
        let pool = QuestionPool(modelID: "m", vectors: [Self.unit(0.6, 1, 0, 0.1), Self.unit(0.5, 1, 0, 0.15)])
        let borrowing = DenseIndex(generation: 1, chunks: chunks, pool: pool)
        let decided = borrowing.rankArticles(between)
        #expect(decided.first?.article == b)
        #expect(decided[0].score - decided[1].score > abs(tie[0].score - tie[1].score))
        // Weight 0 turns the pool off.
        #expect(borrowing.rankArticles(between, neighbours: 0).map(\.article) == tie.map(\.article))
    }

    @Test func theShippedPoolMatchesItsManifestAndTheExamplesInTheClone() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let bytes = try [UInt8](Data(contentsOf: root.appendingPathComponent("Models/retrieval/question-pool.sbq")))
        let manifest =
            try JSONSerialization.jsonObject(with: Data(contentsOf: root.appendingPathComponent("Models/retrieval/manifest.json"))) as? [String: Any]
        let pool = try QuestionPool.decode(bytes)
        #expect(manifest?["poolSHA256"] as? String == QuestionPool.sha256(bytes))
        #expect(manifest?["questions"] as? Int == pool.count && pool.count > 3000 && pool.dimension == 384)
        #expect(manifest?["encoder"] as? String == pool.modelID)
        let examples = try [UInt8](Data(contentsOf: root.appendingPathComponent("Models/intents/examples.csv")))
        #expect(manifest?["dataSHA256"] as? String == QuestionPool.sha256(examples))
    }
}
