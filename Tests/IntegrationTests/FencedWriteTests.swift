import Foundation
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
}
