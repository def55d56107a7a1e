import UnixSignals
import Logging
import ServiceLifecycle
import SwitchboardRedis

/// A process type whose work has not landed yet (the worker before the queue core, the scheduler before
/// cron): it checks that Redis answers, says so, and waits for SIGTERM/SIGINT so that the Procfile's
/// process set already starts and stops the way it will in production.
struct IdleProcess: Service {
    let role: String
    let redis: RedisClient
    let logger: Logger

    func run() async throws {
        try await redis.command(["PING"])
        logger.info("\(role) started; Redis at \(redis.configuration.address) answers. Waiting for SIGTERM.", metadata: ["process.role": "\(role)"])
        try await gracefulShutdown()
        logger.info("\(role) stopping", metadata: ["process.role": "\(role)"])
    }
}

/// Runs an ``IdleProcess`` in a ServiceGroup that stops on SIGTERM or SIGINT.
func runIdleProcess(role: String) async throws {
    let settings = try Settings.fromEnvironment()
    let logger = settings.bootstrapLogging()
    let redis = RedisClient(configuration: try settings.redisConfiguration(), maxConnections: 1)
    let group = ServiceGroup(
        services: [IdleProcess(role: role, redis: redis, logger: logger)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
    do {
        try await group.run()
    } catch let error as RedisError {
        logger.error("\(role) cannot start: \(error)")
        try await redis.shutdown()
        throw ExitCodeError.failure
    }
    try await redis.shutdown()
}

enum ExitCodeError: Error { case failure }
