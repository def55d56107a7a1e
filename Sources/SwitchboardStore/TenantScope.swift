public import FoundationEssentials
public import SwitchboardPostgres

/// Row-level security: every tenant-owned table has a policy that admits a row only when its `tenant_id`
/// equals the transaction's `switchboard.tenant_id` setting, or when the transaction has declared
/// system access (`switchboard.system = on`, for routing a webhook before its tenant is known and for ops).
/// Both settings are transaction-local (`set_config(…, true)`), so they vanish at COMMIT or ROLLBACK and a
/// pooled connection never carries one tenant's scope into the next caller's work.
///
/// RLS applies only when the database role is not a superuser (superusers bypass every policy):
/// connect as the role `scripts/services` creates, or any ordinary role that owns the schema.
extension PostgresClient {
    /// Runs `body` in a transaction that sees only `tenant`'s rows.
    @discardableResult
    public func withTenant<T: Sendable>(_ tenant: UUID, _ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await transaction { conn in
            try conn.query("SELECT set_config('switchboard.tenant_id', $1, true)", [.text(tenant.uuidString)])
            return try body(conn)
        }
    }

    /// Runs `body` in a transaction that sees every tenant's rows. Use for routing and operator commands only.
    @discardableResult
    public func withSystemAccess<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await transaction { conn in
            try conn.query("SELECT set_config('switchboard.system', 'on', true)")
            return try body(conn)
        }
    }
}
