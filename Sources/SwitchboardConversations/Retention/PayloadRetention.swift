public import Foundation
public import SwitchboardPostgres
import SwitchboardStore

/// Deletes raw provider payloads (`messages.raw`, `message_status_events.raw`) older than each tenant's retention
/// (`pipeline_settings.payload_retention_days`, default 90), a batch per transaction. The message text, media
/// references, turns and orders stay: only the provider's JSON as received goes.
public struct PayloadRetention: Sendable {
    public let db: PostgresClient
    public var batchSize: Int

    public init(db: PostgresClient, batchSize: Int = 2000) {
        self.db = db
        self.batchSize = batchSize
    }

    public struct Report: Sendable, Codable, Equatable {
        public var tenants = 0
        public var messages = 0
        public var statusEvents = 0
        public var batches = 0
        public var incomplete = false
        public init() {}
    }

    /// Every tenant, until nothing is due or `limit` has passed.
    public func run(limit: Duration = .seconds(50)) async throws -> Report {
        let clock = ContinuousClock()
        let started = clock.now
        var report = Report()
        let tenants = try await db.withSystemAccess { conn in
            try conn.query(
                """
                SELECT t.id, coalesce(s.payload_retention_days, 90) AS days
                FROM tenants t LEFT JOIN pipeline_settings s ON s.tenant_id = t.id ORDER BY t.id
                """
            ).map { (try $0.decode("id", as: UUID.self), try $0.decode("days", as: Int.self)) }
        }
        for (tenant, days) in tenants {
            report.tenants += 1
            for table in Self.tables {
                while true {
                    let n = try await purgeBatch(table, tenant: tenant, days: days)
                    report.batches += 1
                    if table.name == "messages" { report.messages += n } else { report.statusEvents += n }
                    if n < batchSize { break }
                    if clock.now - started > limit {
                        report.incomplete = true
                        return report
                    }
                }
            }
        }
        return report
    }

    struct Table: Sendable {
        var name: String
        var time: String
    }

    static let tables = [Table(name: "messages", time: "created_at"), Table(name: "message_status_events", time: "received_at")]

    func purgeBatch(_ table: Table, tenant: UUID, days: Int) async throws -> Int {
        let size = Int64(batchSize)
        return try await db.withTenant(tenant) { conn in
            try conn.query(
                """
                WITH old AS (
                    SELECT id FROM \(table.name)
                    WHERE tenant_id = $1 AND raw IS NOT NULL AND \(table.time) < now() - make_interval(days => $2::int)
                    ORDER BY \(table.time) LIMIT $3 FOR UPDATE SKIP LOCKED
                )
                UPDATE \(table.name) t SET raw = NULL FROM old WHERE t.id = old.id RETURNING 1
                """, [.uuid(tenant), .int(Int64(days)), .int(size)]
            ).count
        }
    }
}
