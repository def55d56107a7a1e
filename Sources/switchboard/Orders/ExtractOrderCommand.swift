import ArgumentParser
import Foundation
import SwitchboardOrders

/// `switchboard extract-order`: try a customer's message against a catalogue by hand.
struct ExtractOrderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extract-order",
        abstract: "Extract order lines from a message (or a burst: one argument per message) against a catalogue.",
        discussion: """
            Nothing is stored. Lines show the matched product, quantity, unit, unit price and confidence; ambiguous lines
            show their candidates; products the catalogue lacks are listed as unmatched.

            Examples:
              switchboard extract-order --tenant $TENANT "5 kg de tomate roma y 2 cajas de cebolla"
              switchboard extract-order --catalog ../shared/eval/orders/catalog.csv "need 4 boxes of avocados" "actually make it 6"
            """)
    @OptionGroup var source: OrderCatalogOption
    @Argument(help: "The message text; several arguments are a burst, in order.") var messages: [String]
    @Flag(help: "Print the extraction as JSON.") var json = false
    @Option(help: "Extract RUNS times and print latency percentiles: parsing alone, and (with --tenant) with the database round trips.")
    var bench: Int?

    func validate() throws {
        if messages.allSatisfy({ $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }) {
            throw ValidationError("give the message text, such as \"5 kg de tomate roma\"")
        }
    }

    func run() async throws {
        if let bench { return try await runBench(bench) }
        let extraction: OrderExtraction
        if let index = try source.fileIndex() {
            extraction = OrderParser(index: index).extract(messages)
        } else {
            extraction = try await withModelAndDatabase { _, db, embedder in
                try await OrderExtractor(db: db, embedder: embedder).extract(tenant: source.tenantID!, messages: messages)
            }
        }
        if json { return print(try jsonText(extraction)) }
        print(OrderText.render(extraction))
    }
}

extension ExtractOrderCommand {
    /// Median and p95 of `runs` extractions: the parser on the catalogue index (what runs per turn once the index is
    /// cached), and with --tenant the whole call (a generation check, plus trigram/embedding look-ups for words the
    /// index cannot place).
    func runBench(_ runs: Int) async throws {
        guard runs >= 10 else { throw ValidationError("--bench needs at least 10 runs") }
        func time(_ body: () async throws -> Void) async rethrows -> Double {
            let start = ContinuousClock.now
            try await body()
            let d = ContinuousClock.now - start
            return Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
        }
        func summary(_ label: String, _ samples: [Double]) -> String {
            let s = samples.sorted()
            func p(_ q: Double) -> Double { s[min(s.count - 1, Int((Double(s.count) * q).rounded(.up)) - 1)] }
            return String(
                format: "%@ p50 %.3f ms  p95 %.3f ms  p99 %.3f ms  max %.3f ms  (%d runs)", label, p(0.5), p(0.95), p(0.99), s.last!, s.count)
        }
        if let index = try source.fileIndex() {
            let parser = OrderParser(index: index)
            var samples: [Double] = []
            for _ in 0..<runs { samples.append(await time { _ = parser.extract(messages) }) }
            print("\(index.products.count) products; " + summary("parse", samples))
            return
        }
        try await withModelAndDatabase { _, db, embedder in
            let extractor = OrderExtractor(db: db, embedder: embedder)
            let tenant = source.tenantID!
            let index = try await extractor.catalog(tenant: tenant)
            let parser = OrderParser(index: index)
            let sample = try await extractor.extract(tenant: tenant, messages: messages)
            var parse: [Double] = []
            var full: [Double] = []
            for _ in 0..<runs {
                parse.append(await time { _ = parser.extract(messages) })
                full.append(try await time { _ = try await extractor.extract(tenant: tenant, messages: messages) })
            }
            print("\(index.products.count) products, \(sample.lines.count) lines, \(sample.unmatched.count) unmatched")
            print(summary("parse           ", parse))
            print(summary("with round trips", full))
        }
    }
}

/// Extractions and orders as a person reads them at a terminal.
enum OrderText {
    static func render(_ e: OrderExtraction) -> String {
        guard e.isOrder else { return "not an order (no order lines)" }
        var out: [String] = []
        if e.lines.isEmpty {
            out.append("no products extracted")
        } else {
            out.append(lineTable(e.lines))
        }
        for item in e.unmatched {
            let asked = item.quantity.map { "\(quantity($0)) \(item.unit ?? "")".trimmingCharacters(in: .whitespaces) + " " } ?? ""
            out.append(
                "unmatched: \(asked)\"\(item.text)\"" + (item.suggestions.isEmpty ? "" : " (nearest: \(item.suggestions.joined(separator: ", ")))"))
        }
        out.append(
            "confidence \(String(format: "%.2f", e.confidence)), total \(money(e.totalCents))"
                + (e.requiresReview ? ", needs review" : "") + (e.isValid ? "" : ", INVALID"))
        for w in e.warnings { out.append("warning: \(w)") }
        return out.joined(separator: "\n")
    }

    static func lineTable(_ lines: [OrderLine]) -> String {
        Table(
            headers: ["#", "SKU", "PRODUCT", "QTY", "UNIT", "PRICE", "TOTAL", "CONF", "MATCH"],
            rows: lines.enumerated().map { n, l in
                [
                    "\(n + 1)", l.sku ?? "?", l.isAmbiguous ? "\"\(l.text)\": one of \(l.candidates.joined(separator: ", "))" : l.name,
                    quantity(l.quantity), l.unit ?? "-", l.unitPriceCents.map(money) ?? "-", l.totalCents.map(money) ?? "-",
                    String(format: "%.2f", l.confidence), l.match.rawValue,
                ]
            }
        ).render()
    }

    static func quantity(_ q: Double) -> String { q == q.rounded() ? String(Int(q)) : String(format: "%g", q) }
    static func money(_ cents: Int) -> String { String(format: "%d.%02d", cents / 100, abs(cents % 100)) }
}
