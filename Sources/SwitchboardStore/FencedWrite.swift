public import FoundationEssentials
public import SwitchboardPostgres

/// A fenced write was refused: a newer holder of the same lock has written since this holder took it (this one was
/// paused, or its lock lapsed). Its work must be dropped, not retried as it is: the newer holder's writes stand.
public struct StaleFence: Error, Sendable, CustomStringConvertible {
    public let key: String
    /// This holder's fencing number.
    public let fence: Int64
    /// The number last recorded for the key, by a newer holder.
    public let recorded: Int64

    public var description: String {
        "a newer holder of lock \"\(key)\" wrote with fence \(recorded); this holder's fence \(fence) is stale, so its write was refused"
    }
}

extension PostgresClient {
    /// Runs `body` in a transaction under `tenant`'s scope (``withTenant(_:_:)``) that commits only if `fence` (a
    /// distributed lock's fencing number for `key`: `JobContext.lockFence`) is at least the last one recorded for
    /// the key; it records `fence` in the same transaction. A paused holder whose lock lapsed and was taken by
    /// another therefore cannot overwrite the newer holder's work, however late it wakes.
    ///
    /// - Throws: ``StaleFence`` when a newer fence was recorded (nothing `body` did is committed); `body`'s errors.
    @discardableResult
    public func withTenant<T: Sendable>(
        _ tenant: UUID, fencedBy key: String, fence: Int64, _ body: @escaping @Sendable (PostgresConnection) throws -> T
    ) async throws -> T {
        try await withTenant(tenant) { conn in
            // The row lock taken here is held to COMMIT: an older holder arriving meanwhile waits, then is refused.
            let recorded = try conn.query(
                """
                INSERT INTO fences (tenant_id, key, fence) VALUES ($1, $2, $3)
                ON CONFLICT (tenant_id, key) DO UPDATE SET fence = excluded.fence, updated_at = now()
                WHERE fences.fence <= excluded.fence
                RETURNING fence
                """, [.uuid(tenant), .text(key), .int(fence)])
            if recorded.isEmpty {
                let newer = try conn.query("SELECT fence FROM fences WHERE tenant_id = $1 AND key = $2", [.uuid(tenant), .text(key)])
                throw StaleFence(key: key, fence: fence, recorded: try newer.first?.decode("fence", as: Int64.self) ?? fence)
            }
            return try body(conn)
        }
    }
}
