import ArgumentParser
import SwitchboardEmbedding
import SwitchboardHTTP
import SwitchboardStore
import SwitchboardPostgres
import SwitchboardRedis

/// A client with threads (and connections) of its own to stop.
protocol ClientResource: Sendable {
    func shutdown() async throws
}

extension RedisClient: ClientResource {}
extension PostgresClient: ClientResource {}
extension HTTPClient: ClientResource {}
extension EmbeddingService: ClientResource {}

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

/// For the one-shot operator commands: settings from the environment, logging, one PostgreSQL connection for
/// `body`, shut down afterwards; the store's errors become one clear line and exit code 1.
func withDatabase<T>(_ body: (Settings, PostgresClient) async throws -> T) async throws -> T {
    let settings = try Settings.fromEnvironment()
    _ = settings.bootstrapLogging()
    let db = PostgresClient(url: settings.databaseURL, maxConnections: 1)
    return try await withClients([db]) { try await runReportingErrors { try await body(settings, db) } }
}

/// The embedded model for a command's body, shut down however the body ends; a missing model is one clear line and
/// exit 1.
func withEmbedder<T>(_ body: (EmbeddingService) async throws -> T) async throws -> T {
    let embedder = try Settings.fromEnvironment().embeddingService()
    return try await withClients([embedder]) { try await body(embedder) }
}

/// As ``withDatabase(_:)``, with the embedded model loaded on threads of its own for `body` and stopped afterwards
/// however `body` ends; a missing model is one clear line and exit 1.
func withModelAndDatabase<T>(_ body: (Settings, PostgresClient, EmbeddingService) async throws -> T) async throws -> T {
    let embedder = try Settings.fromEnvironment().embeddingService()
    return try await withClients([embedder]) { try await withDatabase { settings, db in try await body(settings, db, embedder) } }
}

/// Runs an operator action; turns the store's and database's errors into one clear line and exit code 1.
func runReportingErrors<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as DirectoryError {
        printError("error: \(error)")
        throw ExitCode(1)
    } catch let error as PostgresError {
        printError("error: \(error)")
        throw ExitCode(1)
    } catch let error as SecretBoxError {
        printError("error: \(error)")
        throw ExitCode(1)
    } catch let error as MigrationError {
        printError("error: \(error)")
        throw ExitCode(1)
    }
}
