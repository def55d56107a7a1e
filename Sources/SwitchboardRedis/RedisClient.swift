import NIOPosix
import Synchronization

/// The async face of Redis: a small pool of ``RedisConnection``s, each used on one of the client's own
/// threads, so blocking hiredis calls never run on Swift's cooperative pool or an event loop.
///
/// At most `maxConnections` commands run at once; more callers wait their turn. A blocking command
/// (BLMOVE with a 1 s timeout) holds one thread for that long, so size the client for the number of
/// concurrent blocking consumers plus one or two for everything else.
///
/// ```swift
/// let redis = RedisClient(configuration: try RedisConfiguration(url: "redis://127.0.0.1:6379/0"))
/// try await redis.command(["SET", "greeting", "hello"])
/// try await redis.shutdown()
/// ```
public final class RedisClient: Sendable {
    public let configuration: RedisConfiguration
    private let threads: NIOThreadPool
    private let idle: Mutex<[RedisConnection]>

    /// - Parameter maxConnections: threads and connections this client may use at once. Default 4.
    public init(configuration: RedisConfiguration, maxConnections: Int = 4) {
        precondition(maxConnections > 0, "a Redis client needs at least one connection")
        self.configuration = configuration
        self.threads = NIOThreadPool(numberOfThreads: maxConnections)
        self.idle = Mutex([])
        threads.start()
    }

    /// Runs `body` with a connection, on one of the client's threads. `body` may block.
    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (RedisConnection) throws -> T) async throws -> T {
        try await threads.runIfActive {
            let connection = self.idle.withLock { $0.popLast() } ?? RedisConnection(configuration: self.configuration)
            defer { self.idle.withLock { $0.append(connection) } }
            return try body(connection)
        }
    }

    /// Runs one command. Throws ``RedisError`` for an error reply or a connection failure.
    @discardableResult
    public func command(_ arguments: [RedisArgument]) async throws -> RedisReply {
        try await withConnection { try $0.command(arguments) }
    }

    /// Runs a blocking command whose server-side timeout is `timeout` (must be positive).
    @discardableResult
    public func blockingCommand(_ arguments: [RedisArgument], timeout: Duration) async throws -> RedisReply {
        try await withConnection { try $0.blockingCommand(arguments, timeout: timeout) }
    }

    /// Sends all commands in one round trip; error replies come back in place.
    public func pipeline(_ commands: [[RedisArgument]]) async throws -> [RedisReply] {
        try await withConnection { try $0.pipeline(commands) }
    }

    /// Runs a Lua script by EVALSHA, loading it first if the server does not know it.
    @discardableResult
    public func evaluate(_ script: RedisScript, keys: [RedisArgument], arguments: [RedisArgument]) async throws -> RedisReply {
        try await withConnection { try $0.evaluate(script, keys: keys, arguments: arguments) }
    }

    /// Stops the client's threads and closes its connections. Commands after this throw.
    public func shutdown() async throws {
        try await threads.shutdownGracefully()
        idle.withLock { $0.removeAll() }
    }
}
