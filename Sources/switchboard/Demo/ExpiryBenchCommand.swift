import ArgumentParser
import Foundation
import SwitchboardConversations
import SwitchboardPostgres
import SwitchboardStore

/// `switchboard bench expiry`: seeds idle conversations with due contexts in a tenant of its own, expires them the way
/// the `expire-contexts` job does, and reports the time, the batches and the longest transaction.
struct ExpiryBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "expiry",
        abstract: "Expire N seeded idle conversation contexts in batches; report the time and the longest transaction.",
        discussion: """
            Seeds --contexts customers, each with an open conversation whose context is due \
            (idle past 30 minutes, a topic, key facts and a pending action), 10,000 per transaction, \
            then runs the expiry in batches of --batch rows, one transaction each, and checks that \
            every conversation closed and every customer kept its facts. \
            The seeded tenant is deleted afterwards unless --keep.

            Example:
              switchboard bench expiry --contexts 100000 --batch 1000
            """)
    @Option(help: "Idle contexts to seed.") var contexts = 100_000
    @Option(help: "Rows per expiry transaction.") var batch = 1000
    @Flag(help: "Keep the seeded tenant.") var keep = false
    @Flag(help: "Print one JSON object.") var json = false

    struct Result: Codable {
        var contexts: Int
        var seedSeconds: Double
        var report: ContextExpiry.Report
        var closed: Int
        var customersKept: Int
    }

    func validate() throws {
        guard (1...5_000_000).contains(contexts), (1...50_000).contains(batch) else {
            throw ValidationError("--contexts is 1–5000000 and --batch 1–50000")
        }
    }

    func run() async throws {
        let result = try await withDatabase { settings, db -> Result in
            let tenant = try await TenantDirectory(db: db).createTenant(name: "bench expiry \(UUID().uuidString.prefix(8))").id
            let channel = try await ChannelDirectory(db: db, secretBox: try settings.secretBox()).addChannel(
                tenant: tenant, kind: .whatsapp, address: String(UInt64.random(in: 100_000_000_000...999_999_999_999)),
                secrets: ChannelSecrets(appSecret: "bench", verifyToken: "bench", accessToken: "bench")
            ).id
            let seedStarted = ContinuousClock.now
            var seeded = 0
            while seeded < contexts {
                let n = min(10_000, contexts - seeded)
                try await db.withTenant(tenant) { conn in
                    try conn.execute(
                        """
                        WITH c AS (
                            INSERT INTO customers (tenant_id, display_name) SELECT $1, 'Bench ' || g FROM generate_series(1, $3::int) g RETURNING id
                        ), v AS (
                            INSERT INTO conversations (tenant_id, customer_id, channel_id, last_activity_at)
                            SELECT $1, c.id, $2, now() - interval '2 hours' FROM c RETURNING id, last_activity_at
                        )
                        INSERT INTO conversation_context (conversation_id, tenant_id, current_topic, pending_action, key_facts, last_activity_at,
                                                          idle_seconds, expires_at)
                        SELECT v.id, $1, 'track_order', '{"kind": "order_draft", "lines": 2}', '{"city": "Bilbao", "usual_products": ["Roma tomatoes"]}',
                               v.last_activity_at, 1800, v.last_activity_at + interval '30 minutes'
                        FROM v
                        """, [.uuid(tenant), .uuid(channel), .int(Int64(n))])
                }
                seeded += n
                if !json { print("seeded \(seeded) / \(contexts)") }
            }
            let seedSeconds = Self.seconds(ContinuousClock.now - seedStarted)
            if !json { print("expiring in batches of \(batch)…") }
            let report = try await ContextExpiry(db: db, batchSize: batch).run(limit: .seconds(3600))
            let (closed, kept) = try await db.withTenant(tenant) { conn -> (Int, Int) in
                let row = try conn.query(
                    """
                    SELECT (SELECT count(*)::int FROM conversations WHERE status = 'closed') AS closed,
                           (SELECT count(*)::int FROM customers WHERE previous_topic = 'track_order' AND key_facts->>'city' = 'Bilbao') AS kept
                    """)[0]
                return (try row.decode("closed"), try row.decode("kept"))
            }
            if !keep { try await db.withSystemAccess { conn in try conn.execute("DELETE FROM tenants WHERE id = $1", [.uuid(tenant)]) } }
            return Result(contexts: contexts, seedSeconds: seedSeconds, report: report, closed: closed, customersKept: kept)
        }
        if json { return print(try jsonText(result)) }
        let r = result.report
        print(
            Table(
                headers: ["MEASURE", "VALUE"],
                rows: [
                    ["contexts seeded (seconds)", "\(result.contexts) (\(result.seedSeconds) s)"],
                    ["expired / postponed / with a person", "\(r.expired) / \(r.postponed) / \(r.withPerson)"],
                    ["batches of \(batch)", "\(r.batches)"],
                    ["total time", "\(r.totalMs) ms"],
                    ["longest transaction", "\(r.longestBatchMs) ms"],
                    ["conversations closed / customers with kept facts", "\(result.closed) / \(result.customersKept)"],
                ]
            ).render())
        if result.closed != contexts || result.customersKept != contexts {
            throw ValidationError("only \(result.closed) of \(contexts) conversations closed (\(result.customersKept) customers kept their facts)")
        }
    }

    static func seconds(_ d: Duration) -> Double {
        let (s, a) = d.components
        return ((Double(s) + Double(a) / 1e18) * 10).rounded() / 10
    }
}
