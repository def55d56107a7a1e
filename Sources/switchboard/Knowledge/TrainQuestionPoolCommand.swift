import ArgumentParser
import CSV
import Foundation
import SwitchboardEmbedding
import SwitchboardKnowledge

/// `switchboard train question-pool`: the unlabelled customer questions help-center search borrows from.
struct TrainQuestionPoolCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "question-pool", abstract: "Embed typical customer questions into the pool help-center search borrows from.",
        discussion: """
            Reads questions (a CSV with a text, instruction or question column — any other column, intents included, is
            ignored — or a text file, one question per line), cleans them as search does (digit runs dropped), drops
            repeats, embeds them with the embedded model and writes 16-bit vectors, with manifest.json beside the file
            (data checksum, encoder, count, file checksum). Same data and model → the same file.

            Examples:
              switchboard train question-pool --data Models/intents/examples.csv
              switchboard train question-pool --data tenant-questions.txt --out /tmp/pool/question-pool.sbq
            """)
    @Option(help: "The questions: CSV with a text/instruction/question column, or one per line.") var data = "Models/intents/examples.csv"
    @Option(help: "Where the pool goes; manifest.json is written beside it.") var out = "Models/retrieval/question-pool.sbq"
    @Flag(help: "Print the manifest as JSON.") var json = false

    struct Manifest: Codable {
        var encoder: String
        var data: String
        var dataSHA256: String
        var questions: Int
        var dimension: Int
        var floor: Float
        var neighbours: Int
        var poolSHA256: String
        var command: String
    }

    func run() async throws {
        guard let raw = FileManager.default.contents(atPath: data) else {
            printError("error: \(data): cannot be read")
            throw ExitCode(1)
        }
        let (questions, read) = try Self.questions(String(decoding: raw, as: UTF8.self), path: data)
        let started = ContinuousClock.now
        let vectors = try await withEmbedder { embedder in try await embedAll(questions, with: embedder, label: "embedded questions") }
        let pool = QuestionPool(modelID: SentenceEncoder.modelID, vectors: vectors)
        let bytes = pool.encoded()
        let manifest = Manifest(
            encoder: SentenceEncoder.modelID, data: (data as NSString).lastPathComponent, dataSHA256: QuestionPool.sha256([UInt8](raw)),
            questions: pool.count, dimension: pool.dimension, floor: QuestionPool.floor, neighbours: QuestionPool.limit,
            poolSHA256: QuestionPool.sha256(bytes), command: "switchboard train question-pool --data \(data) --out \(out)")
        do {
            let folder = (out as NSString).deletingLastPathComponent
            try FileManager.default.createDirectory(atPath: folder.isEmpty ? "." : folder, withIntermediateDirectories: true)
            try Data(bytes).write(to: URL(fileURLWithPath: out), options: .atomic)
            try Data((try jsonText(manifest) + "\n").utf8).write(
                to: URL(fileURLWithPath: folder.isEmpty ? "manifest.json" : folder + "/manifest.json"), options: .atomic)
        } catch {
            printError("error: cannot write \(out): \(error.localizedDescription)")
            throw ExitCode(1)
        }
        if json { return print(try jsonText(manifest)) }
        print(
            "embedded \(pool.count) distinct questions of \(read) in \(Int((ContinuousClock.now - started).seconds)) s → \(out) (\(bytes.count / 1024) KB)"
        )
        print("  pool sha256 \(manifest.poolSHA256)")
    }

    /// The distinct questions of a CSV (text, instruction or question column) or of a plain list, as search reads them.
    static func questions(_ text: String, path: String) throws -> (distinct: [String], read: Int) {
        var texts: [String] = []
        if path.hasSuffix(".csv") {
            guard let reader = try? CSVReader(string: text, hasHeaderRow: true) else {
                printError("error: \(path): cannot be read as a CSV file with a header row")
                throw ExitCode(1)
            }
            let header = reader.headerRow ?? []
            guard let column = ["text", "instruction", "question"].lazy.compactMap({ header.firstIndex(of: $0) }).first else {
                printError("error: \(path): needs a `text`, `instruction` or `question` column")
                throw ExitCode(1)
            }
            while let row = reader.next() { if column < row.count { texts.append(row[column]) } }
        } else {
            texts = text.split(whereSeparator: \.isNewline).map(String.init)
        }
        var seen: Set<String> = []
        let distinct = texts.map { Retriever.searchText($0.trimmingCharacters(in: .whitespaces)) }.filter { !$0.isEmpty && seen.insert($0).inserted }
        guard !distinct.isEmpty else {
            printError("error: \(path): no questions")
            throw ExitCode(1)
        }
        return (distinct, texts.count)
    }
}
