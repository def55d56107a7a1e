import Foundation
import Testing

/// The chaos suite's short form (scripts/chaos runs the full one): 50 conversations replayed through signed webhooks
/// into `web` while a worker child is SIGKILLed every 2 s and Redis is restarted with SHUTDOWN, through the built
/// binary, as an operator would run it.
@Suite("Chaos, short form", .serialized, .timeLimit(.minutes(8)))
struct ChaosShortFormTests {
    @Test func fiftyConversationsSurviveWorkerKillsAndARedisRestart() async throws {
        try await SharedSchema.shared.ensureMigrated()
        let data = TestEnvironment.packageRoot.appendingPathComponent("scripts/demo-data").path
        let run = try await runSwitchboard([
            "chaos", "--conversations", "50", "--rate", "5", "--faults", "kill-workers,restart-redis", "--data", data, "--json",
        ])
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "no report: \(run.stderr.suffix(2000))")
        func int(_ key: String) -> Int { report[key] as? Int ?? -1 }
        print("chaos short form: \(run.stdout)")
        #expect(run.status == 0, "problems: \(report["problems"] ?? "?")")
        #expect(int("messagesPosted") >= 150 && int("messagesStored") == int("messagesPosted") && int("messagesStoredTwice") == 0)
        #expect(int("messagesOutsideTurns") == 0)
        #expect(int("turns") == 50 && int("turnsPerBurstMin") == 1 && int("turnsPerBurstMax") == 1 && int("turnsDecided") == 50)
        #expect(int("repliesReceivedTwice") == 0 && int("repliesPerTurnMax") <= 1 && int("repliesReceived") >= int("repliesStored"))
        #expect(int("conversationsClosed") == 50 && int("contextsExpired") == 50)
        #expect(int("jobsPending") == 0 && (report["jobsDead"] as? [Any])?.isEmpty == true)
        let faults = try #require(report["faults"] as? [String: Any])
        #expect((faults["workerKills"] as? Int ?? 0) >= 3 && faults["redisRestarts"] as? Int == 1)
    }
}
