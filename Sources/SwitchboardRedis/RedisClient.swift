/// The async face of Redis: a small pool of ``RedisConnection``s, each used on one of the client's own
/// threads, so blocking hiredis calls never run on Swift's cooperative pool or an event loop.
///
/// At most `maxConnections` commands run at once; more callers wait their turn. A blocking command
/// (BLMOVE with a 1 s timeout) holds one thread for that long, so size the client for the number of
/// concurrent blocking consumers plus one or two for everything else.
///
/// Each thread owns one connection for its whole life (``RedisThreads``), so the client never holds more. When a thread
/// is parked with an open connection, a request of up to 64 KiB through ``command(_:)``, ``pipeline(_:)``, ``evaluate(_:keys:arguments:)``
/// and ``evaluatePipelined(_:calls:)`` write their request from the caller's thread with a non-blocking `send`, and
/// only the wait for the reply moves to a client thread. The request is on its way while that thread wakes up, which
/// is most of an idle producer's latency. Nothing blocks the caller: what the socket does not take at once is written by the client thread, and a socket that is not open takes
/// the ordinary path, which reconnects.
///
/// ```swift
/// let redis = RedisClient(configuration: try RedisConfiguration(url: "redis://127.0.0.1:6379/0"))
/// try await redis.command(["SET", "greeting", "hello"])
/// try await redis.shutdown()
/// ```
public final class RedisClient: Sendable {
    public let configuration: RedisConfiguration
    private let threads: RedisThreads

    /// - Parameter maxConnections: threads and connections this client may use at once. Default 4.
    public init(configuration: RedisConfiguration, maxConnections: Int = 4) {
        precondition(maxConnections > 0, "a Redis client needs at least one connection")
        self.configuration = configuration
        self.threads = RedisThreads(count: maxConnections, configuration: configuration)
    }

    /// An executor for a task that makes Redis calls one after another (a producer enqueuing in a loop, an import):
    /// under `withTaskExecutorPreference(redis.taskExecutor) { … }` the task runs on one of the client's threads, and
    /// each call it makes runs right there on that thread's connection: the round trip and nothing else, with no
    /// thread hand-off either way. Keep such a task to Redis work and light computing: while it runs, its thread serves
    /// no other caller of this client. Other tasks keep using the client as before.
    public var taskExecutor: any TaskExecutor { threads }

    /// Runs `body` with a connection, on one of the client's threads. `body` may block.
    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (RedisConnection) throws -> T) async throws -> T {
        // Already on a client thread (a task preferring ``taskExecutor``): its connection is free, and blocking is fine.
        if let t = threads.currentIndex() { return try body(threads.connections[t]) }
        return try await withCheckedThrowingContinuation { continuation in
            threads.submit(work(body, continuation))
        }
    }

    /// Runs one command. Throws ``RedisError`` for an error reply or a connection failure.
    @discardableResult
    public func command(_ arguments: [RedisArgument]) async throws -> RedisReply {
        let reply = try await sendingFirst([arguments], then: { $1 }, otherwise: { [try $0.command(arguments)] })[0]
        if case .error(let message) = reply { throw RedisError(.serverError, message) }
        return reply
    }

    /// Runs a blocking command whose server-side timeout is `timeout` (must be positive).
    @discardableResult
    public func blockingCommand(_ arguments: [RedisArgument], timeout: Duration) async throws -> RedisReply {
        try await withConnection { try $0.blockingCommand(arguments, timeout: timeout) }
    }

    /// Sends all commands in one round trip; error replies come back in place.
    public func pipeline(_ commands: [[RedisArgument]]) async throws -> [RedisReply] {
        if commands.isEmpty { return [] }
        return try await sendingFirst(commands, then: { $1 }, otherwise: { try $0.pipeline(commands) })
    }

    /// Runs a Lua script by EVALSHA, loading it first if the server does not know it.
    @discardableResult
    public func evaluate(_ script: RedisScript, keys: [RedisArgument], arguments: [RedisArgument]) async throws -> RedisReply {
        let replies = try await evaluatePipelined(script, calls: [(keys, arguments)])
        if case .error(let message) = replies[0] { throw RedisError(.serverError, message) }
        return replies[0]
    }

    /// Runs one script several times in one round trip (pipelined EVALSHA), loading it if the server does not know
    /// it. Error replies come back in place.
    public func evaluatePipelined(_ script: RedisScript, calls: [(keys: [RedisArgument], arguments: [RedisArgument])]) async throws -> [RedisReply] {
        if calls.isEmpty { return [] }
        return try await sendingFirst(
            calls.map { script.call(keys: $0.keys, arguments: $0.arguments) },
            then: { connection, replies in try connection.reissuingUnknownScript(script, calls: calls, replies: replies) },
            otherwise: { try $0.evaluatePipelined(script, calls: calls) })
    }

    /// Stops the client's threads once their current command is done (queued ones fail) and closes its connections.
    /// Commands after this throw.
    public func shutdown() async throws {
        await threads.shutdown()
    }

    // MARK: - Internals

    /// The largest request (bytes of arguments) written from the caller's thread.
    static let sendFirstLimit = 64 << 10

    /// With a parked thread free, writes `commands` on its connection from this thread, then has that thread read
    /// the replies and pass them through `then`. Otherwise (every thread busy, or the socket not open) runs
    /// `otherwise` on a client thread, the ordinary way.
    private func sendingFirst(
        _ commands: [[RedisArgument]],
        then: @escaping @Sendable (RedisConnection, [RedisReply]) throws -> [RedisReply],
        otherwise: @escaping @Sendable (RedisConnection) throws -> [RedisReply]
    ) async throws -> [RedisReply] {
        // Large requests go the ordinary way: copying megabytes is no work for a cooperative thread, and they gain
        // nothing measurable from the head start.
        var size = 0
        for command in commands { for argument in command { size += argument.bytes.count } }
        if let t = threads.currentIndex() { return try otherwise(threads.connections[t]) }
        guard size <= Self.sendFirstLimit, let t = threads.reserveIdle() else { return try await withConnection(otherwise) }
        let connection = threads.connections[t]
        let sent = connection.sendWithoutBlocking(commands)
        return try await withCheckedThrowingContinuation { continuation in
            let count = commands.count
            threads.post(work({ c in sent ? try then(c, try c.receiveReplies(count)) : try otherwise(c) }, continuation), to: t)
        }
    }

    private func work<T: Sendable>(
        _ body: @escaping @Sendable (RedisConnection) throws -> T, _ continuation: CheckedContinuation<T, any Error>
    ) -> RedisThreads.Work {
        RedisThreads.Work(
            run: { connection in continuation.resume(with: Result { try body(connection) }) },
            cancel: { continuation.resume(throwing: RedisError(.connectionLost, "the Redis client was shut down before this command ran")) })
    }
}
