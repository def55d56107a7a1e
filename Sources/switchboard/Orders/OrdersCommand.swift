import ArgumentParser
import Foundation
import SwitchboardOrders

/// `switchboard orders`: order drafts for the person who reviews them.
struct OrdersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orders",
        abstract: "Order drafts: list, show, confirm, reject, fix a line.",
        discussion: """
            Drafts are written by the extract-order job: PENDING (ready to confirm) or REVIEW (a person must look: an
            ambiguous line, low confidence, a missing price or a product the catalogue lacks). Exit status 1 when the
            order does not exist or cannot change.

            Examples:
              switchboard orders list --tenant $TENANT --status REVIEW
              switchboard orders show $ORDER
              switchboard orders set-line $ORDER 2 --sku TOM-ROMA --quantity 10
              switchboard orders confirm $ORDER
            """,
        subcommands: [List.self, Show.self, Confirm.self, Reject.self, SetLine.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Orders, newest first.")
        @Option(help: "Only this tenant's orders.") var tenant: String?
        @Option(help: "Only orders in this status: PENDING, REVIEW, CONFIRMED or REJECTED.") var status: String?
        @Option(help: "At most this many.") var limit = 50
        @Flag(help: "Print a JSON array.") var json = false

        func validate() throws {
            if let tenant, UUID(uuidString: tenant) == nil { throw ValidationError("--tenant must be a tenant id (a UUID)") }
            if let status, OrderStatus(rawValue: status.uppercased()) == nil {
                throw ValidationError("--status must be one of PENDING, REVIEW, CONFIRMED, REJECTED")
            }
            if limit < 1 { throw ValidationError("--limit must be at least 1") }
        }

        func run() async throws {
            let orders = try await withDatabase { _, db in
                try await OrderStore(db: db).list(
                    tenant: tenant.flatMap(UUID.init(uuidString:)), status: status.flatMap { OrderStatus(rawValue: $0.uppercased()) }, limit: limit)
            }
            try printList(
                orders, json: json, empty: "no orders", headers: ["ORDER", "STATUS", "LINES", "TOTAL", "CONF", "WARNINGS", "SOURCE", "CREATED"]
            ) { o in
                [
                    o.id.uuidString.lowercased(), o.status.rawValue, "\(o.lines.count)",
                    OrderText.money(o.totalCents) + (o.currency.map { " \($0)" } ?? ""),
                    String(format: "%.2f", o.confidence), "\(o.warnings.count)", o.source, ISO8601DateFormatter().string(from: o.createdAt),
                ]
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One order: lines, candidates of ambiguous lines, warnings, source messages.")
        @Argument(help: "The order id.") var id: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let id = try orderID(self.id)
            guard let order = try await withDatabase({ _, db in try await OrderStore(db: db).order(id: id) }) else {
                printError("error: \(OrderStoreError.notFound(id))")
                throw ExitCode(1)
            }
            if json { return print(try jsonText(order)) }
            print(OrderText.render(order))
        }
    }

    struct Confirm: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Confirm an open order (every line must name a product).")
        @Argument(help: "The order id.") var id: String
        @Option(help: "Who decided, recorded on the order.") var by = ProcessInfo.processInfo.environment["USER"] ?? "cli"
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let id = try orderID(self.id)
            let order = try await change { store in try await store.confirm(id: id, by: by) }
            if json { return print(try jsonText(order)) }
            print("order \(id.uuidString.lowercased()) CONFIRMED: \(order.lines.count) lines, total \(OrderText.money(order.totalCents))")
        }
    }

    struct Reject: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reject an open order.")
        @Argument(help: "The order id.") var id: String
        @Option(help: "Who decided, recorded on the order.") var by = ProcessInfo.processInfo.environment["USER"] ?? "cli"
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let id = try orderID(self.id)
            let order = try await change { store in try await store.reject(id: id, by: by) }
            if json { return print(try jsonText(order)) }
            print("order \(id.uuidString.lowercased()) REJECTED")
        }
    }

    struct SetLine: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-line",
            abstract: "Fix a line of an open order: its product (by SKU), quantity or unit. The line becomes certain.")
        @Argument(help: "The order id.") var id: String
        @Argument(help: "The line number, from 1 (as orders show prints it).") var line: Int
        @Option(help: "The product's SKU.") var sku: String?
        @Option(help: "The quantity, above 0.") var quantity: Double?
        @Option(help: "The unit (kg, box, bag, unit, dozen, liter, bottle, can, pack, sack).") var unit: String?
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            if sku == nil && quantity == nil && unit == nil { throw ValidationError("give --sku, --quantity or --unit (or several)") }
            if line < 1 { throw ValidationError("lines are numbered from 1") }
            if let quantity, !(quantity > 0) { throw ValidationError("--quantity must be above 0") }
        }

        func run() async throws {
            let id = try orderID(self.id)
            let order = try await change { store in try await store.setLine(id: id, position: line, sku: sku, quantity: quantity, unit: unit) }
            if json { return print(try jsonText(order)) }
            print(OrderText.render(order))
        }
    }
}

private func orderID(_ text: String) throws -> UUID {
    guard let id = UUID(uuidString: text) else { throw ValidationError("the order id must be a UUID, as orders list prints it") }
    return id
}

/// Runs a change; a refusal (decided, ambiguous, unknown) is one line on stderr and exit status 1.
private func change(_ body: @escaping (OrderStore) async throws -> StoredOrder) async throws -> StoredOrder {
    do {
        return try await withDatabase { _, db in try await body(OrderStore(db: db)) }
    } catch let error as OrderStoreError {
        printError("error: \(error)")
        throw ExitCode(1)
    }
}

extension OrderText {
    static func render(_ o: StoredOrder) -> String {
        var out = [
            "order \(o.id.uuidString.lowercased())  \(o.status.rawValue)\(o.requiresReview ? " (needs review)" : "")  version \(o.version)",
            "tenant \(o.tenantID.uuidString.lowercased())" + (o.conversationID.map { "  conversation \($0.uuidString.lowercased())" } ?? ""),
            "source \(o.source), confidence \(String(format: "%.2f", o.confidence)), total \(money(o.totalCents))\(o.currency.map { " \($0)" } ?? "")"
                + (o.isValid ? "" : ", INVALID"),
        ]
        if let decided = o.decidedAt { out.append("decided \(ISO8601DateFormatter().string(from: decided)) by \(o.decidedBy ?? "?")") }
        out.append(o.lines.isEmpty ? "no lines" : lineTable(o.lines))
        for item in o.unmatched {
            out.append("unmatched: \"\(item.text)\"" + (item.suggestions.isEmpty ? "" : " (nearest: \(item.suggestions.joined(separator: ", ")))"))
        }
        for w in o.warnings { out.append("warning: \(w)") }
        for s in o.sources {
            out.append("from turn \(s.turnKey.prefix(17))… messages \(s.messageIDs.map { $0.uuidString.lowercased() }.joined(separator: ", "))")
        }
        return out.joined(separator: "\n")
    }
}
