import ArgumentParser
import SwitchboardQueue

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract:
            "Find (and with --repair, fix) inconsistencies: ids without job data, jobs in two states or none, active jobs whose worker is gone, dangling unique keys.",
        discussion: """
            Each finding is confirmed atomically before it is reported, and each repair acts only on what is still
            wrong, so check is safe while workers run. Repairs: an id without data leaves its state; a job in two
            states stays in the one its state field names (else the one that still runs it); a job in no state goes
            back where its state says; an active job whose worker's record expired returns to ready (or dead when out
            of attempts); a unique key pointing at a missing job is deleted.

            Exits 0 when the queues are consistent or every finding was repaired, 1 when findings remain.

            Examples:
              switchboard check
              switchboard check --queue default --repair
              switchboard check --json
            """)

    @Option(help: "Check one queue (default: every queue).") var queue: String?
    @Flag(help: "Fix each finding.") var repair = false
    @OptionGroup var ops: OpsOptions

    func validate() throws {
        if let queue { try validateQueueName(queue) }
    }

    /// The `--json` shape.
    struct Report: Encodable {
        let queuesChecked: Int
        let repaired: Bool
        let findings: [QueueFinding]
    }

    func run() async throws {
        let report = try await withOpsRedis { redis in
            let inspector = QueueInspector(redis: redis)
            var names = [String]()
            if let queue { names = [queue] } else { names = try await inspector.queues() }
            var findings: [QueueFinding] = []
            for name in names { findings += try await inspector.check(queue: name, repair: repair) }
            return Report(queuesChecked: names.count, repaired: repair, findings: findings)
        }
        if ops.json {
            print(try jsonText(report))
        } else if report.findings.isEmpty {
            print("checked \(report.queuesChecked) queue\(report.queuesChecked == 1 ? "" : "s"): consistent")
        } else {
            let headers = ["QUEUE", "KIND", "JOB OR KEY", "PROBLEM"] + (repair ? ["REPAIR"] : [])
            print(
                Table(
                    headers: headers,
                    rows: report.findings.map { f in
                        [f.queue, f.kind, f.subject, f.problem] + (repair ? [f.repair ?? ""] : [])
                    }
                ).render())
            let n = report.findings.count
            print(repair ? "repaired \(n) finding\(n == 1 ? "" : "s")" : "\(n) finding\(n == 1 ? "" : "s"); run with --repair to fix")
        }
        if !report.findings.isEmpty && !repair { throw ExitCode(1) }
    }
}
