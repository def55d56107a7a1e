import ArgumentParser
import Foundation
import SwitchboardAI

/// `switchboard usage`: what a tenant's model calls did and cost.
struct UsageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "usage",
        abstract: "A tenant's model calls in a month: requests, successes, tokens, cost, latency, confidence; by day, agent or model.",
        discussion: """
            From the hourly roll-up written with every call (hosted and embedded; embedded calls cost 0). Costs use the
            price table in force when each call was made (SWITCHBOARD_PRICES, default Models/prices.json).

            Example:
              switchboard usage --tenant $T --month 2026-12 --by model
            """)
    @Option(help: "The tenant's id.") var tenant: String
    @Option(help: "The month, YYYY-MM (UTC). Default this month.") var month: String?
    @Option(help: "Group by day, agent or model.") var by: String = "day"
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        guard UUID(uuidString: tenant) != nil else { throw ValidationError("--tenant must be a tenant id (a UUID)") }
        if let month, month.range(of: #"^\d{4}-(0[1-9]|1[0-2])$"#, options: .regularExpression) == nil {
            throw ValidationError("--month must be YYYY-MM, such as 2026-12")
        }
        if UsageLedger.Grouping(rawValue: by) == nil { throw ValidationError("--by must be day, agent or model") }
    }

    func run() async throws {
        let tenant = UUID(uuidString: tenant)!
        let month =
            self.month
            ?? {
                var calendar = Calendar(identifier: .gregorian)
                calendar.timeZone = TimeZone(identifier: "UTC")!
                let c = calendar.dateComponents([.year, .month], from: Date())
                return String(format: "%04d-%02d", c.year!, c.month!)
            }()
        let (rows, standing) = try await withDatabase { _, db in
            let ledger = UsageLedger(db: db)
            return (
                try await ledger.report(tenant: tenant, month: month, by: UsageLedger.Grouping(rawValue: by)!),
                try await ledger.standing(tenant: tenant)
            )
        }
        try printList(
            rows, json: json, empty: "no model calls in \(month)",
            headers: [by.uppercased(), "REQUESTS", "OK", "PROMPT TOK", "COMPL TOK", "COST", "AVG LATENCY", "AVG CONF"]
        ) {
            [
                $0.key, "\($0.requests)", "\($0.successful)", "\($0.promptTokens)", "\($0.completionTokens)",
                String(format: "%.6f", $0.costCents / 100),
                String(format: "%.0f ms", $0.averageLatencyMs), $0.averageConfidence.map { String(format: "%.2f", $0) } ?? "-",
            ]
        }
        let total = rows.reduce(0) { $0 + $1.costCents }
        print(
            String(format: "total %.6f", total / 100)
                + (standing.budget.map { " of a budget of \(Money.text($0.monthlyCents)) (\($0.policy.rawValue) past it)" } ?? ""))
    }
}
