public import FoundationEssentials
public import SwitchboardPostgres
public import SwitchboardQueue
import SwitchboardStore

extension PostgresClient {
    /// A stage's transaction under `tenant`'s scope, fenced by the lock the job runs under (its `lockKey` and
    /// `lockFence`): refused with `StaleFence` when a newer holder of that lock has written since (see
    /// `withTenant(_:fencedBy:fence:_:)`).
    ///
    /// - Throws: `DoNotRetry` when the job runs under no lock (declare ``JobParameters/lockKey`` on its type).
    @discardableResult
    public func withTenant<T: Sendable>(
        _ tenant: UUID, fencedBy context: JobContext, _ body: @escaping @Sendable (PostgresConnection) throws -> T
    ) async throws -> T {
        guard let key = context.lockKey, let fence = context.lockFence else {
            throw DoNotRetry("\(context.name) runs under no lock, so its writes cannot be fenced; declare a lockKey on its type")
        }
        return try await withTenant(tenant, fencedBy: key, fence: fence, body)
    }
}
