import Logging
import ArgumentParser
import CSV
import Foundation
import SwitchboardEmbedding
import SwitchboardKnowledge
import SwitchboardPostgres

/// `switchboard eval`: quality measured on data, so every change shows what it buys.
struct EvalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Measure quality on evaluation data.", subcommands: [Retrieval.self, Intents.self, Orders.self])

    struct Retrieval: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recall@1/3/5 and MRR of help-center retrieval, hybrid against full-text-only and dense-only.",
            discussion: """
                Imports --kb into the tenant (unchanged entries are not rewritten) and embeds what is pending, then asks every
                question. A question's expected articles come from --intent-map (intent → ids) or from an `expected` column
                (ids separated by |). The retriever itself never sees intents or the map.

                Example:
                  switchboard eval retrieval --tenant $TENANT --kb ../shared/eval/kb/articles \\
                    --questions ../shared/eval/bitext/train.csv --intent-map ../shared/eval/kb/intent_articles.json
                """)
        @OptionGroup var tenant: TenantOption
        @Option(help: "The help center: a folder or file, as `kb import` takes.") var kb: String
        @Option(help: "CSV of questions: a `question` or `instruction` column, and `intent` or `expected`.") var questions: String
        @Option(help: "JSON object: intent → list of expected article ids.") var intentMap: String?
        @Option(help: "Ask only the first N questions.") var limit: Int?
        @Option(help: "Misses to list per mode.") var misses = 10
        @Option(help: "Modes to compare, comma-separated.") var modes = "hybrid,full-text,dense"
        @Option(help: "Fusion weights: dense,full-text,title,k (reciprocal rank fusion).") var weights: String?
        @Flag(help: "Print one JSON object.") var json = false

        func run() async throws {
            let entries = try readSource { () throws(KnowledgeImportError) in try KBSourceReader.read(path: kb) }
            var asked = try loadQuestions()
            if let limit { asked = Array(asked.prefix(limit)) }
            let modes = try self.modes.split(separator: ",").map { name -> RetrievalMode in
                guard let mode = RetrievalMode(rawValue: String(name)) else { throw ValidationError("unknown mode \(name)") }
                return mode
            }
            let reports = try await withModelAndDatabase { settings, db, embedder in
                let store = KBStore(db: db)
                _ = try await store.importEntries(entries, tenant: tenant.id)
                let progress = TerminalProgress(label: "embedded passages")
                try await KnowledgeEmbedder(store: store, embedder: embedder).embedPending(tenant: tenant.id) { progress.update($0, $1) }
                progress.finish()
                let vectorProgress = TerminalProgress(label: "embedded questions")
                var vectors: [[Float]] = []
                for start in stride(from: 0, to: asked.count, by: 64) {
                    vectors += try await embedder.embed(asked[start..<min(asked.count, start + 64)].map { Retriever.searchText($0.text) })
                    vectorProgress.update(vectors.count, asked.count)
                }
                vectorProgress.finish()
                let retriever = Retriever(
                    store: store, embedder: embedder, weights: weights.flatMap(FusionWeights.init) ?? FusionWeights(),
                    pool: settings.questionPool(logger: Logger(label: "switchboard.eval")))
                var reports: [ModeReport] = []
                for mode in modes {
                    reports.append(try await evaluate(mode: mode, asked: asked, vectors: vectors, retriever: retriever))
                }
                return reports
            }
            if json { return print(try jsonText(reports)) }
            print(
                Table(
                    headers: ["MODE", "QUESTIONS", "RECALL@1", "RECALL@3", "RECALL@5", "MRR", "MS/QUESTION"],
                    rows: reports.map {
                        [
                            $0.mode, "\($0.questions)", "\($0.recallAt1)", "\($0.recallAt3)", "\($0.recallAt5)", "\($0.mrr)",
                            "\($0.millisecondsPerQuestion)",
                        ]
                    }
                ).render())
            for report in reports {
                print("\n\(report.mode): recall@3 per intent (worst first)")
                for (intent, recall) in report.perIntentRecallAt3.sorted(by: { $0.value < $1.value }).prefix(8) { print("  \(intent): \(recall)") }
                if !report.misses.isEmpty { print("\(report.mode): misses (expected → top 3)") }
                for miss in report.misses {
                    print("  \(miss.question.prefix(70)) | \(miss.expected.joined(separator: ",")) → \(miss.top.joined(separator: ","))")
                }
            }
        }

        struct Question: Sendable {
            let text: String
            let intent: String
            let expected: Set<String>
        }

        struct Miss: Codable, Sendable {
            let question: String
            let expected: [String]
            let top: [String]
        }

        struct ModeReport: Codable, Sendable {
            let mode: String
            let questions: Int
            let recallAt1, recallAt3, recallAt5, mrr: Double
            let millisecondsPerQuestion: Double
            let perIntentRecallAt3: [String: Double]
            let misses: [Miss]
        }

        func loadQuestions() throws -> [Question] {
            var map: [String: [String]] = [:]
            if let intentMap {
                guard let data = FileManager.default.contents(atPath: intentMap),
                    let decoded = try? JSONDecoder().decode([String: [String]].self, from: data)
                else {
                    printError("error: \(intentMap): must be a JSON object of intent → [article ids]")
                    throw ExitCode(1)
                }
                map = decoded
            }
            guard let text = try? String(contentsOfFile: questions, encoding: .utf8), let reader = try? CSVReader(string: text, hasHeaderRow: true)
            else {
                printError("error: \(questions): cannot be read as a CSV file with a header row")
                throw ExitCode(1)
            }
            let header = reader.headerRow ?? []
            guard let textColumn = header.firstIndex(of: "question") ?? header.firstIndex(of: "instruction") else {
                printError("error: \(questions): needs a `question` or `instruction` column")
                throw ExitCode(1)
            }
            let intentColumn = header.firstIndex(of: "intent")
            let expectedColumn = header.firstIndex(of: "expected")
            var out: [Question] = []
            var line = 1
            while let row = reader.next() {
                line += 1
                let intent = intentColumn.map { row[$0] } ?? ""
                let expected = Set(expectedColumn.map { row[$0].split(separator: "|").map(String.init) } ?? map[intent] ?? [])
                guard !expected.isEmpty else {
                    printError("error: \(questions):\(line): no expected articles (no `expected` column, and intent \"\(intent)\" is not in the map)")
                    throw ExitCode(1)
                }
                out.append(Question(text: row[textColumn], intent: intent, expected: expected))
            }
            return out
        }

        func evaluate(mode: RetrievalMode, asked: [Question], vectors: [[Float]], retriever: Retriever) async throws -> ModeReport {
            let started = ContinuousClock.now
            let progress = TerminalProgress(label: "asked (\(mode.rawValue))")
            let tenant = tenant.id
            // Two questions in flight: one waits on PostgreSQL while the other ranks.
            var ranks = [Int?](repeating: nil, count: asked.count)
            var tops = [[String]](repeating: [], count: asked.count)
            try await withThrowingTaskGroup(of: (Int, Int?, [String]).self) { group in
                var next = 0
                func add() {
                    let i = next
                    next += 1
                    group.addTask {
                        let results = try await retriever.search(tenant: tenant, query: asked[i].text, k: 10, mode: mode, vector: vectors[i])
                        let ids = results.map(\.externalID)
                        return (i, ids.firstIndex { asked[i].expected.contains($0) }.map { $0 + 1 }, Array(ids.prefix(3)))
                    }
                }
                for _ in 0..<min(2, asked.count) { add() }
                var done = 0
                while let (i, rank, top) = try await group.next() {
                    (ranks[i], tops[i]) = (rank, top)
                    done += 1
                    if done % 50 == 0 { progress.update(done, asked.count) }
                    if next < asked.count { add() }
                }
            }
            progress.finish()
            let n = Double(asked.count)
            func recall(_ k: Int) -> Double { (Double(ranks.filter { ($0 ?? 99) <= k }.count) / n).rounded(toPlaces: 4) }
            var perIntent: [String: (hit: Int, total: Int)] = [:]
            for (question, rank) in zip(asked, ranks) {
                perIntent[question.intent, default: (0, 0)].total += 1
                if (rank ?? 99) <= 3 { perIntent[question.intent, default: (0, 0)].hit += 1 }
            }
            let misses = zip(asked, zip(ranks, tops)).filter { ($0.1.0 ?? 99) > 3 }.prefix(self.misses).map {
                Miss(question: $0.0.text, expected: $0.0.expected.sorted(), top: $0.1.1)
            }
            return ModeReport(
                mode: mode.rawValue, questions: asked.count, recallAt1: recall(1), recallAt3: recall(3), recallAt5: recall(5),
                mrr: (ranks.reduce(0.0) { $0 + ($1.map { 1 / Double($0) } ?? 0) } / n).rounded(toPlaces: 4),
                millisecondsPerQuestion: ((ContinuousClock.now - started).seconds * 1000 / n).rounded(toPlaces: 2),
                perIntentRecallAt3: perIntent.mapValues { (Double($0.hit) / Double($0.total)).rounded(toPlaces: 3) }, misses: Array(misses))
        }
    }
}
