import Foundation
import SwitchboardKnowledge
import SwitchboardPostgres
import Testing

/// The operator's path: `kb import` checks, writes and enqueues `kb-embed`; a worker process embeds; `kb search` finds.
@Suite("Tenant knowledge: the commands and the kb-embed job", .serialized, .timeLimit(.minutes(4)))
struct KnowledgeCommandTests {
    @Test func importEnqueuesKBEmbedWhichAWorkerRunsThenSearchFinds() async throws {
        let db = PostgresClient(url: try TestEnvironment.databaseURL(), maxConnections: 1)
        let tenant = try await makeKnowledgeTenant(db, "kb command")
        let folder = try writeHelpCenter(sampleHelpCenter)
        defer { try? FileManager.default.removeItem(at: folder) }

        // A bad source: exit 1, the file and field named, nothing written.
        let bad = try writeHelpCenter(["broken.md": "---\nid: x\n---\nno title in the front matter\n"])
        defer { try? FileManager.default.removeItem(at: bad) }
        let refused = try await runSwitchboard(["kb", "import", bad.path, "--tenant", tenant.uuidString])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("broken.md") && refused.stderr.contains("(title)") && refused.stderr.contains("nothing was imported"))

        let imported = try await runSwitchboard(["kb", "import", folder.path, "--tenant", tenant.uuidString, "--json"])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains(#""added" : 3"#))
        #expect(try await KBStore(db: db).status(tenant: tenant).pending > 0)

        // A worker on the job's queue embeds the passages (the model loads in the worker's child process).
        let worker = try startWorkerProcess(["--queues", "knowledge", "--processes", "1", "--concurrency", "2", "--grace", "5s"])
        defer { kill(worker.pid, SIGTERM) }
        try await expectEventually(timeout: .seconds(60)) { try await KBStore(db: db).status(tenant: tenant).pending == 0 }
        kill(worker.pid, SIGTERM)
        #expect(await waitForChild(worker.pid) == 0, "\((try? String(contentsOfFile: worker.log, encoding: .utf8)) ?? "")")

        let search = try await runSwitchboard(["kb", "search", "--tenant", tenant.uuidString, "how late can I cancel?", "--k", "2", "--json"])
        #expect(search.status == 0, "\(search.stderr)")
        let results = try JSONDecoder().decode([RetrievedArticle].self, from: Data(search.stdout.utf8))
        #expect(results.first?.externalID == "kb-001")
        #expect(results.first?.parts.denseRank != nil)
        try await db.shutdown()
    }
}
