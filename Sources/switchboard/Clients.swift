import SwitchboardHTTP
import SwitchboardPostgres
import SwitchboardRedis

/// A client with threads (and connections) of its own to stop.
protocol ClientResource: Sendable {
    func shutdown() async throws
}

extension RedisClient: ClientResource {}
extension PostgresClient: ClientResource {}
extension HTTPClient: ClientResource {}

/// Runs `body`, then shuts `clients` down whether it returned or threw: a failing start-up (a bad schedule file, a
/// port in use) never leaves a thread pool running behind the error.
func withClients<T>(_ clients: [any ClientResource], _ body: () async throws -> T) async throws -> T {
    let result: T
    do {
        result = try await body()
    } catch {
        for client in clients { try? await client.shutdown() }
        throw error
    }
    for client in clients { try await client.shutdown() }
    return result
}
