import Foundation
import SwitchboardPostgres
import SwitchboardStore
import Testing

/// Tenant isolation is enforced by PostgreSQL itself, not by the application remembering a WHERE clause.
@Suite("Row-level security", .timeLimit(.minutes(2)))
struct RowLevelSecurityTests {
    /// Two tenants, each with a channel, a customer, an identity, a conversation and a message.
    struct World: Sendable {
        let tenant: UUID
        let customer: UUID
        let conversation: UUID
        let message: UUID
    }

    static func seed(_ db: PostgresClient, name: String) async throws -> World {
        try await db.withSystemAccess { conn in
            let tenant: UUID = try conn.query("INSERT INTO tenants (name) VALUES ($1) RETURNING id", [.text(name)])[0].decode("id")
            let channel: UUID = try conn.query(
                "INSERT INTO channels (tenant_id, kind, address, secrets) VALUES ($1, 'whatsapp', $2, '\\x00') RETURNING id",
                [.uuid(tenant), .text(String(UInt64.random(in: 1...UInt64.max)))])[0].decode("id")
            let customer: UUID = try conn.query(
                "INSERT INTO customers (tenant_id, display_name) VALUES ($1, $2) RETURNING id", [.uuid(tenant), .text(name + " customer")])[0].decode(
                    "id")
            try conn.execute(
                "INSERT INTO customer_identities (tenant_id, customer_id, kind, value) VALUES ($1, $2, 'wa_id', '15550001111')",
                [.uuid(tenant), .uuid(customer)])
            let conversation: UUID = try conn.query(
                "INSERT INTO conversations (tenant_id, customer_id, channel_id) VALUES ($1, $2, $3) RETURNING id",
                [.uuid(tenant), .uuid(customer), .uuid(channel)])[0].decode("id")
            let message: UUID = try conn.query(
                """
                INSERT INTO messages (tenant_id, channel_id, conversation_id, provider_message_id, direction, type, text, raw)
                VALUES ($1, $2, $3, $4, 'inbound', 'text', $5, $6) RETURNING id
                """,
                [.uuid(tenant), .uuid(channel), .uuid(conversation), .text("wamid.\(UUID())"), .text("secret of \(name)"), .jsonb("{}")])[0].decode(
                    "id")
            return World(tenant: tenant, customer: customer, conversation: conversation, message: message)
        }
    }

    @Test func aTenantCannotSeeOrTouchAnotherTenantsRowsEvenById() async throws {
        try await SharedSchema.shared.ensureMigrated()
        let db = PostgresClient(url: try TestEnvironment.databaseURL(), maxConnections: 2)
        // The test is meaningful only for a role that RLS applies to.
        #expect(try await db.query("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")[0].decode("rolsuper", as: Bool.self) == false)
        let a = try await Self.seed(db, name: "tenant A \(UUID())")
        let b = try await Self.seed(db, name: "tenant B \(UUID())")

        try await db.withTenant(a.tenant) { conn in
            // Own rows are visible.
            let own: String = try conn.query("SELECT text FROM messages WHERE id = $1", [.uuid(a.message)])[0].decode("text")
            #expect(own.hasPrefix("secret of tenant A"))
            // B's rows are invisible even asked for by primary key, in every table.
            let theirs = try conn.query("SELECT * FROM messages WHERE id = $1", [.uuid(b.message)])
            #expect(theirs.isEmpty)
            #expect(try conn.query("SELECT * FROM conversations WHERE id = $1", [.uuid(b.conversation)]).isEmpty)
            #expect(try conn.query("SELECT * FROM customers WHERE id = $1", [.uuid(b.customer)]).isEmpty)
            #expect(try conn.query("SELECT * FROM customer_identities WHERE tenant_id = $1", [.uuid(b.tenant)]).isEmpty)
            #expect(try conn.query("SELECT * FROM channels WHERE tenant_id = $1", [.uuid(b.tenant)]).isEmpty)
            #expect(try conn.query("SELECT * FROM tenants WHERE id = $1", [.uuid(b.tenant)]).isEmpty)
            // Every row it can see is its own.
            #expect(try conn.query("SELECT DISTINCT tenant_id FROM messages").map { try $0.decode("tenant_id", as: UUID.self) } == [a.tenant])
            // Updates and deletes of B's rows change nothing.
            #expect(try conn.execute("UPDATE messages SET text = 'pwned' WHERE id = $1", [.uuid(b.message)]) == 0)
            #expect(try conn.execute("DELETE FROM customers WHERE id = $1", [.uuid(b.customer)]) == 0)
        }
        // Writing a row into B while scoped to A is refused by the policy's WITH CHECK.
        let refused = await #expect(throws: PostgresError.self) {
            try await db.withTenant(a.tenant) { conn in
                try conn.execute("INSERT INTO customers (tenant_id, display_name) VALUES ($1, 'smuggled')", [.uuid(b.tenant)])
            }
        }
        #expect(refused?.sqlState == "42501")
        // Outside any scope nothing is visible.
        #expect(
            try await db.query("SELECT * FROM messages WHERE id = ANY($1::uuid[])", [.textArray([a.message.uuidString, b.message.uuidString])])
                .isEmpty)
        // B's data is intact.
        try await db.withTenant(b.tenant) { conn in
            let text: String = try conn.query("SELECT text FROM messages WHERE id = $1", [.uuid(b.message)])[0].decode("text")
            #expect(text.hasPrefix("secret of tenant B"))
            #expect(try conn.query("SELECT count(*) AS n FROM customers WHERE id = $1", [.uuid(b.customer)])[0].decode("n", as: Int.self) == 1)
        }
        // The scope is transaction-local: the pooled connection carries nothing into the next caller.
        let leftover = try await db.query("SELECT current_setting('switchboard.tenant_id', true) AS t")[0].decodeIfPresent("t", as: String.self)
        #expect(leftover == nil || leftover == "")
        try await db.shutdown()
    }

    @Test func aChildRowCannotPointIntoAnotherTenant() async throws {
        try await SharedSchema.shared.ensureMigrated()
        let db = PostgresClient(url: try TestEnvironment.databaseURL(), maxConnections: 1)
        let a = try await Self.seed(db, name: "fk A \(UUID())")
        let b = try await Self.seed(db, name: "fk B \(UUID())")
        // Even with system access, a conversation of A cannot reference B's customer: keys are (tenant_id, id).
        let error = await #expect(throws: PostgresError.self) {
            try await db.withSystemAccess { conn in
                try conn.execute(
                    "INSERT INTO customer_identities (tenant_id, customer_id, kind, value) VALUES ($1, $2, 'email', 'x@y.z')",
                    [.uuid(a.tenant), .uuid(b.customer)])
            }
        }
        #expect(error?.sqlState == "23503")
        try await db.shutdown()
    }
}
