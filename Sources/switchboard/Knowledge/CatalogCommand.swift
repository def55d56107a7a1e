import ArgumentParser
import FoundationEssentials
import SwitchboardEmbedding
import SwitchboardKnowledge

/// `switchboard catalog`: a tenant's products — import them, match a customer's words against them.
struct CatalogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog",
        abstract: "A tenant's catalogue: import a CSV, match words against it.",
        discussion: """
            Examples:
              switchboard catalog import ../shared/eval/orders/catalog.csv --tenant $TENANT
              switchboard catalog match --tenant $TENANT "tomates roma"
            """,
        subcommands: [Import.self, Match.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import products from CSV (sku,name,aliases,unit,pack,price,category); then enqueue kb-embed.",
            discussion: "Unchanged products are not written; changed ones get a new version. A bad row stops the import with its line and column.")
        @Argument(help: "The CSV file.") var file: String
        @OptionGroup var tenant: TenantOption
        @Flag(help: "Set inactive the products the file no longer lists.") var prune = false
        @Flag(help: "Do not enqueue kb-embed.") var noEmbed = false
        @Flag(help: "Print the report as JSON.") var json = false

        func run() async throws {
            let records = try readSource { () throws(KnowledgeImportError) in try CatalogReader.read(path: file) }
            let report = try await withDatabase { _, db in try await CatalogStore(db: db).importProducts(records, tenant: tenant.id, prune: prune) }
            var job: String?
            if !noEmbed && report.wroteAnything { job = try await enqueueEmbed(tenant: tenant.id) }
            if json { return print(try jsonText(report)) }
            print(
                "\(records.count) products: \(report.added) added, \(report.changed) changed, \(report.unchanged) unchanged, "
                    + "\(report.removed) deactivated" + (job.map { "; kb-embed job \($0)" } ?? ""))
        }
    }

    struct Match: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Candidates for a customer's product words, with exact, trigram and embedding scores.")
        @OptionGroup var tenant: TenantOption
        @Argument(help: "The words, such as \"tomates roma\".") var words: String
        @Option(help: "How many candidates.") var k = 5
        @Flag(help: "Print a JSON array.") var json = false

        func run() async throws {
            let candidates = try await withModelAndDatabase { _, db, embedder in
                try await CatalogMatcher(db: db, embedder: embedder).match(tenant: tenant.id, words: words, k: k)
            }
            try printList(
                candidates, json: json, empty: "no products", headers: ["SKU", "NAME", "UNIT", "PRICE", "EXACT", "TRIGRAM", "EMBEDDING", "SCORE"]
            ) {
                [
                    $0.sku, $0.name, $0.unit, $0.price ?? "-", $0.exact ? "yes" : "", "\($0.trigram.rounded(toPlaces: 3))",
                    $0.embedding.map { "\($0.rounded(toPlaces: 3))" } ?? "-", "\($0.score.rounded(toPlaces: 3))",
                ]
            }
        }
    }
}
