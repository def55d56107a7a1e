import Foundation
import Jobs
import SwitchboardPostgres
import SwitchboardQueue
import SwitchboardRedis
import SwitchboardStore
import Testing

/// Writes under a distributed lock carry its fencing number into PostgreSQL; a holder whose lock was taken over
/// while it was paused cannot write after the newer holder has (#17 item 5).
@Suite("Fenced PostgreSQL writes", .timeLimit(.minutes(2)))
struct FencedWriteTests {
    @Test func aPausedHoldersLateWriteIsRefusedAfterTheNewHolderWrote() async throws {
        try await SharedSchema.shared.ensureMigrated()
        let db = PostgresClient(url: try TestEnvironment.databaseURL(), maxConnections: 3)
        let redis = try makeRedis()
        let world = try await RowLevelSecurityTests.seed(db, name: "fence \(UUID())")
        let lock = try DistributedLock(redis: redis, key: "conversation:\(world.conversation)")
        let key = "conversation:\(world.conversation)"

        // A takes the lock for 1 s, then stalls (as a SIGSTOPped process would: no extension, no write) past its TTL.
        let fenceA = try #require(try await lock.acquire(owner: "A", ttl: .seconds(1)))
        try await Task.sleep(for: .milliseconds(1500))
        // B takes the lapsed lock with a higher fence and writes.
        let fenceB = try #require(try await lock.acquire(owner: "B", ttl: .seconds(30)))
        #expect(fenceB > fenceA)
        try await db.withTenant(world.tenant, fencedBy: key, fence: fenceB) { conn in
            try conn.execute("UPDATE customers SET display_name = 'written by B' WHERE id = $1", [.uuid(world.customer)])
        }
        // A wakes and writes late: refused, and nothing of its transaction is committed.
        await #expect(throws: StaleFence.self) {
            try await db.withTenant(world.tenant, fencedBy: key, fence: fenceA) { conn in
                try conn.execute("UPDATE customers SET display_name = 'written by A' WHERE id = $1", [.uuid(world.customer)])
            }
        }
        // B may write again with its own fence; a later holder's fence is accepted too.
        try await db.withTenant(world.tenant, fencedBy: key, fence: fenceB) { _ in }
        let name: String = try await db.withTenant(world.tenant) { conn in
            try conn.query("SELECT display_name FROM customers WHERE id = $1", [.uuid(world.customer)])[0].decode("display_name")
        }
        #expect(name == "written by B")
        // The fence row is the tenant's: another tenant's scope does not see it.
        let other = try await RowLevelSecurityTests.seed(db, name: "fence other \(UUID())")
        let seen = try await db.withTenant(other.tenant) { conn in try conn.query("SELECT * FROM fences WHERE key = $1", [.text(key)]).count }
        #expect(seen == 0)
        try await redis.shutdown()
        try await db.shutdown()
    }

    /// A worker process runs `fenced-note` under the conversation's lock and is SIGSTOPped mid-job, past its lease; a
    /// second worker takes the job over and writes; the first, SIGCONTed, tries its late write and is refused.
    @Test(.exclusive) func aSIGSTOPpedWorkersLateWriteIsRefusedAfterTheWorkerThatTookOverWrote() async throws {
        try await SharedSchema.shared.ensureMigrated()
        let db = PostgresClient(url: try TestEnvironment.databaseURL(), maxConnections: 2)
        let redis = try makeRedis()
        let world = try await RowLevelSecurityTests.seed(db, name: "fence stop \(UUID())")
        let queue = uniqueQueueName("fence-stop")
        let inspector = QueueInspector(redis: redis)
        func displayName() async throws -> String {
            try await db.withTenant(world.tenant) { conn in
                try conn.query("SELECT display_name FROM customers WHERE id = $1", [.uuid(world.customer)])[0].decode("display_name")
            }
        }
        let first = try startWorkerProcess(["--queues", queue, "--processes", "1", "--concurrency", "2", "--lease", "2s"])
        let id = try await JobQueue(redis: redis).enqueue(
            FencedNote(tenant: world.tenant, customer: world.customer, conversation: world.conversation, text: "note", ms: 4000),
            options: .init(queue: queue))
        var holder: JobSnapshot? = nil
        try await expectEventually(timeout: .seconds(60)) {  // the suite's start-up load can delay the worker's start
            holder = try await inspector.job(id, queue: queue)
            return holder?.state == "active"
        }
        let child = try #require(try await inspector.workers().first { $0.id == holder?.leaseOwner }?.pid, "the holder's process")
        kill(pid_t(child), SIGSTOP)
        try await Task.sleep(for: .seconds(3))  // past the 2 s lease and the lock's TTL
        let second = try startWorkerProcess(["--queues", queue, "--processes", "1", "--concurrency", "2", "--lease", "10s"])
        try await expectEventually(timeout: .seconds(30)) { try await displayName().hasPrefix("note #") }
        let written = try await displayName()
        kill(pid_t(child), SIGCONT)
        try await expectEventually(timeout: .seconds(30)) {
            ((try? String(contentsOfFile: first.log, encoding: .utf8)) ?? "").contains("fenced note refused")
        }
        #expect(try await displayName() == written, "the stale holder's write did not land")
        #expect(written != "note #\(holder?.fencingToken ?? -1)", "the write that landed is the second holder's")
        let fence: Int64 = try await db.withTenant(world.tenant) { conn in
            try conn.query("SELECT fence FROM fences WHERE key = $1", [.text("conversation:\(world.conversation)")])[0].decode("fence")
        }
        print("SIGSTOP fence test: first holder's token \(holder?.fencingToken ?? -1), landed \(written), recorded fence \(fence)")
        #expect(fence >= 2)
        for worker in [first, second] {
            kill(worker.pid, SIGTERM)
            #expect(await waitForChild(worker.pid) == 0)
        }
        try await redis.shutdown()
        try await db.shutdown()
    }
}
