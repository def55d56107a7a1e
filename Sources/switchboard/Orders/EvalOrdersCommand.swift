import ArgumentParser
import Foundation
import SwitchboardOrders

extension EvalCommand {
    /// `switchboard eval orders`: order extraction scored on annotated turns.
    struct Orders: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Line precision/recall/F1 over (sku, quantity, unit), is-order accuracy, ambiguous flags and unmatched recall.",
            discussion: """
                Scored as ../shared/eval/orders/README.md says. The catalogue is the tenant's (import it first with
                `switchboard catalog import`) or a CSV given with --catalog.

                Example:
                  switchboard eval orders ../shared/eval/orders/dev.jsonl --tenant $TENANT
                """)
        @Argument(help: "The cases, JSONL.") var file: String
        @OptionGroup var source: OrderCatalogOption
        @Option(help: "Misses to list.") var misses = 20
        @Flag(help: "Print one JSON object.") var json = false

        func run() async throws {
            let cases: [OrderCase]
            do { cases = try OrderCase.read(path: file) } catch {
                printError("error: \(error)")
                throw ExitCode(1)
            }
            var evaluation = OrderEvaluation()
            if let index = try source.fileIndex() {
                let parser = OrderParser(index: index)
                for c in cases { evaluation.add(c, parser.extract(c.messages)) }
            } else {
                try await withModelAndDatabase { _, db, embedder in
                    let extractor = OrderExtractor(db: db, embedder: embedder)
                    let index = try await extractor.catalog(tenant: source.tenantID!)
                    if index.products.isEmpty {
                        printError("error: the tenant has no active products; import them with: switchboard catalog import FILE --tenant ID")
                        throw ExitCode(1)
                    }
                    for c in cases { evaluation.add(c, try await extractor.extract(tenant: source.tenantID!, messages: c.messages)) }
                }
            }
            if json { return print(try jsonText(evaluation)) }
            let e = evaluation
            func f(_ x: Double) -> String { String(format: "%.3f", x) }
            print("\(e.cases) cases")
            print(
                "lines      precision \(f(e.precision))  recall \(f(e.recall))  F1 \(f(e.f1))  (tp \(e.truePositives), fp \(e.falsePositives), fn \(e.falseNegatives))"
            )
            print("is-order   accuracy \(f(e.isOrderAccuracy))")
            print(
                "ambiguous  recall \(f(e.ambiguousRecall))  precision \(f(e.ambiguousPrecision))  (\(e.flaggedAndGold) of \(e.goldAmbiguous) flagged)"
            )
            print("unmatched  recall \(f(e.unmatchedRecall))  precision \(f(e.unmatchedPrecision))")
            if !e.misses.isEmpty { print("\nmisses (\(e.misses.count) cases):") }
            for miss in e.misses.prefix(misses) {
                print("  \(miss.id): \(miss.messages.joined(separator: " / "))")
                for p in miss.problems { print("      \(p)") }
            }
        }
    }
}
