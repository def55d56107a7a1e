import Logging
import ArgumentParser
import FoundationEssentials
import Jobs
import SwitchboardEmbedding
import SwitchboardKnowledge
import SwitchboardPostgres
import SwitchboardQueue
import SwitchboardRedis

/// `switchboard kb`: a tenant's help center — import it, embed it, see how far it is, search it.
struct KBCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kb",
        abstract: "A tenant's help center: import, embed, status, search.",
        discussion: """
            Examples:
              switchboard kb import ../shared/eval/kb/articles --tenant $TENANT
              switchboard kb embed --tenant $TENANT
              switchboard kb status --tenant $TENANT
              switchboard kb search --tenant $TENANT "can I still cancel my order?" --k 3
            """,
        subcommands: [Import.self, Embed.self, Status.self, Search.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import Markdown (front matter id, title, tags), CSV or JSON entries; then enqueue kb-embed.",
            discussion: """
                Unchanged entries are not written; a changed one gets a new version whose passages replace the old ones.
                Every entry is checked before anything is written: a bad one stops the import with its file, line and field.
                """)
        @Argument(help: "A folder of .md/.csv/.json files, or one file.") var path: String
        @OptionGroup var tenant: TenantOption
        @Flag(help: "Soft-delete stored entries the source no longer has.") var prune = false
        @Flag(help: "Do not enqueue kb-embed (run `switchboard kb embed` yourself).") var noEmbed = false
        @Flag(help: "Print the report as JSON.") var json = false

        func run() async throws {
            let entries = try readSource { () throws(KnowledgeImportError) in try KBSourceReader.read(path: path) }
            let report = try await withDatabase { _, db in try await KBStore(db: db).importEntries(entries, tenant: tenant.id, prune: prune) }
            var job: String?
            if !noEmbed && report.wroteAnything { job = try await enqueueEmbed(tenant: tenant.id) }
            if json { return print(try jsonText(report)) }
            print(
                "\(entries.count) entries: \(report.added) added, \(report.changed) changed, \(report.unchanged) unchanged, \(report.removed) deleted; "
                    + "passages \(report.chunksAdded) added, \(report.chunksRetired) retired" + (job.map { "; kb-embed job \($0)" } ?? ""))
        }
    }

    struct Embed: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Embed the tenant's pending passages and products here and now (what the kb-embed job does).")
        @OptionGroup var tenant: TenantOption

        func run() async throws {
            let started = ContinuousClock.now
            let (passages, products) = try await withModelAndDatabase { _, db, embedder in
                let progress = TerminalProgress(label: "embedded passages")
                let passages = try await KnowledgeEmbedder(store: KBStore(db: db), embedder: embedder).embedPending(tenant: tenant.id) {
                    progress.update($0, $1)
                }
                progress.finish()
                return (passages, try await CatalogStore(db: db).embedPending(tenant: tenant.id, embedder: embedder))
            }
            print("embedded \(passages) passages and \(products) products in \((ContinuousClock.now - started).seconds.rounded(toPlaces: 1)) s")
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Entries, passages, embedded and pending, by model.")
        @OptionGroup var tenant: TenantOption
        @Flag(help: "Print one JSON object.") var json = false

        func run() async throws {
            let status = try await withDatabase { _, db in try await KBStore(db: db).status(tenant: tenant.id) }
            if json { return print(try jsonText(status)) }
            print(
                "\(status.articles) entries (\(status.deletedArticles) deleted), \(status.chunks) passages: \(status.embedded) embedded, "
                    + "\(status.pending) pending; models: "
                    + (status.models.isEmpty
                        ? "none" : status.models.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))
        }
    }

    struct Search: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Hybrid search: full text, title trigrams and dense vectors, fused by rank.")
        @OptionGroup var tenant: TenantOption
        @Argument(help: "The question.") var question: String
        @Option(help: "How many articles.") var k = 5
        @Option(help: "hybrid (default), dense, full-text or title.") var mode = "hybrid"
        @Option(help: "Time the search: run it this many times (warm, in this process) and print p50/p95.") var runs: Int?
        @Flag(help: "Print a JSON array of results with their score parts.") var json = false

        func validate() throws {
            guard RetrievalMode(rawValue: mode) != nil else { throw ValidationError("--mode must be hybrid, dense, full-text or title") }
            guard (1...50).contains(k) else { throw ValidationError("--k must be between 1 and 50") }
        }

        func run() async throws {
            let mode = RetrievalMode(rawValue: self.mode) ?? .hybrid
            let (results, timings) = try await withModelAndDatabase { settings, db, embedder in
                let retriever = Retriever(
                    store: KBStore(db: db), embedder: embedder, pool: settings.questionPool(logger: Logger(label: "switchboard.kb")))
                let results = try await retriever.search(tenant: tenant.id, query: question, k: k, mode: mode)
                var timings: [Double] = []
                for _ in 0..<(runs ?? 0) {
                    let started = ContinuousClock.now
                    _ = try await retriever.search(tenant: tenant.id, query: question, k: k, mode: mode)
                    timings.append((ContinuousClock.now - started).seconds * 1000)
                }
                return (results, timings.sorted())
            }
            if !timings.isEmpty {
                let p50 = timings[timings.count / 2].rounded(toPlaces: 2)
                let p95 = timings[min(timings.count - 1, timings.count * 95 / 100)].rounded(toPlaces: 2)
                printError("\(timings.count) searches (\(mode.rawValue), embedding included): p50 \(p50) ms, p95 \(p95) ms")
            }
            if json { return print(try jsonText(results)) }
            if results.isEmpty { return print("nothing found") }
            print(
                Table(
                    headers: ["#", "ID", "TITLE", "SCORE", "DENSE", "FULL-TEXT", "TITLE~"],
                    rows: results.enumerated().map { i, r in
                        [
                            "\(i + 1)", r.externalID, r.title, "\(r.score.rounded(toPlaces: 4))", r.parts.denseRank.map { "#\($0)" } ?? "-",
                            r.parts.fullTextRank.map { "#\($0)" } ?? "-", r.parts.titleRank.map { "#\($0)" } ?? "-",
                        ]
                    }
                ).render())
            print("best passage: \(results[0].chunkText.prefix(300))")
        }
    }
}

extension Double {
    func rounded(toPlaces places: Int) -> Double {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        return (self * scale).rounded() / scale
    }
}

/// Enqueues `kb-embed` for `tenant` (unique while queued: one waiting job however many imports ran). Returns its id.
func enqueueEmbed(tenant: UUID) async throws -> String {
    try await withOpsRedis { redis in
        let job = KnowledgeEmbed(tenant: tenant)
        return try await JobQueue(redis: redis).enqueue(job, options: job.enqueueOptions)
    }
}
