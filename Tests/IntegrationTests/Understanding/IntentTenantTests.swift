import Foundation
import SwitchboardPostgres
import SwitchboardUnderstanding
import Testing

/// A tenant's own intents: `intents import` stores examples (all or nothing) and enqueues `train-intents`; a worker
/// retrains on the base examples plus the tenant's; `classify --tenant` then knows the new intent, and the tenant's
/// threshold override applies.
@Suite("Turn understanding: a tenant's own intents", .serialized, .timeLimit(.minutes(5)))
struct IntentTenantTests {
    @Test func importTrainClassify() async throws {
        let db = PostgresClient(url: try TestEnvironment.databaseURL(), maxConnections: 1)
        let tenant = try await makeKnowledgeTenant(db, "intents")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("intents-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        // A small base set stands in for Models/intents/examples.csv so the job trains in seconds.
        let base = folder.appendingPathComponent("base.csv")
        try csv(smallTrainingSet.filter { $0.intent != "greeting_hours" }).write(to: base, atomically: true, encoding: .utf8)
        let own = folder.appendingPathComponent("own.csv")
        try csv(smallTrainingSet.filter { $0.intent == "greeting_hours" }).write(to: own, atomically: true, encoding: .utf8)

        // Bad rows: exit 1, nothing stored.
        let bad = folder.appendingPathComponent("bad.csv")
        try "text,intent\nopening hours,hours\nwhen do you open,Not A Name\n".write(to: bad, atomically: true, encoding: .utf8)
        let refused = try await runSwitchboard(["intents", "import", "--tenant", tenant.uuidString, bad.path])
        #expect(refused.status == 1 && refused.stderr.contains("nothing was imported"), "\(refused.stderr)")
        #expect(try await IntentModelStore(db: db).examples(tenant: tenant).isEmpty)

        let imported = try await runSwitchboard(["intents", "import", "--tenant", tenant.uuidString, own.path, "--json"])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains(#""added" : 8"#))
        let again = try await runSwitchboard(["intents", "import", "--tenant", tenant.uuidString, own.path, "--json"])
        #expect(again.stdout.contains(#""added" : 0"#) && again.stdout.contains(#""unchanged" : 8"#))

        // No out-of-scope file: the threshold is the in-scope quantile alone.
        let retry = try startWorkerProcess(
            ["--queues", "knowledge", "--processes", "1", "--concurrency", "1", "--grace", "5s"],
            environment: ["SWITCHBOARD_INTENT_DATA": base.path, "SWITCHBOARD_INTENT_OOS": ""])
        defer { kill(retry.pid, SIGTERM) }
        try await expectEventually(timeout: .seconds(120)) { try await IntentModelStore(db: db).load(tenant: tenant).model != nil }
        kill(retry.pid, SIGTERM)
        #expect(await waitForChild(retry.pid) == 0, "\((try? String(contentsOfFile: retry.log, encoding: .utf8)) ?? "")")

        let status = try await runSwitchboard(["intents", "status", "--tenant", tenant.uuidString, "--json"])
        #expect(status.stdout.contains(#""model" : "tenant""#) && status.stdout.contains(#""labels" : 3"#), "\(status.stdout)")
        let asked = try await runSwitchboard(["classify", "--tenant", tenant.uuidString, "are you open on saturday?", "--json"])
        #expect(asked.status == 0, "\(asked.stderr)")
        #expect(asked.stdout.contains(#""name" : "greeting_hours""#), "\(asked.stdout)")
        // Another tenant still gets the shipped model, which has no such intent.
        let other = try await makeKnowledgeTenant(db, "intents other")
        let shipped = try await runSwitchboard(["classify", "--tenant", other.uuidString, "are you open on saturday?", "--json"])
        #expect(!shipped.stdout.contains("greeting_hours"))

        // The threshold override: 1.0 sends everything to a person.
        #expect(try await runSwitchboard(["intents", "threshold", "--tenant", tenant.uuidString, "1"]).status == 0)
        let strict = try await runSwitchboard(["classify", "--tenant", tenant.uuidString, "is my parcel coming today?", "--json"])
        #expect(strict.stdout.contains(#""outOfScope" : true"#), "\(strict.stdout)")
        try await db.shutdown()
    }

    private func csv(_ rows: [LabelledText]) -> String {
        "text,intent\n" + rows.map { "\"\($0.text)\",\($0.intent)" }.joined(separator: "\n") + "\n"
    }
}
