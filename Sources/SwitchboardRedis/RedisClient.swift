import Glibc
import NIOPosix
import Synchronization

/// The async face of Redis: a small pool of ``RedisConnection``s, each used on one of the client's own
/// threads, so blocking hiredis calls never run on Swift's cooperative pool or an event loop.
///
/// At most `maxConnections` commands run at once; more callers wait their turn. A blocking command
/// (BLMOVE with a 1 s timeout) holds one thread for that long, so size the client for the number of
/// concurrent blocking consumers plus one or two for everything else.
///
/// When a thread is free and an open connection idle, ``command(_:)``, ``pipeline(_:)``, ``evaluate(_:keys:arguments:)``
/// and ``evaluatePipelined(_:calls:)`` write their request from the caller's thread with a non-blocking `send`, and
/// only the wait for the reply moves to a client thread. The request is on its way while that thread wakes up
/// (about 0.1 ms on this machine's idle cores), which is most of an idle producer's latency. Nothing blocks the
/// caller: a socket that would block, or is not open, takes the ordinary path.
///
/// ```swift
/// let redis = RedisClient(configuration: try RedisConfiguration(url: "redis://127.0.0.1:6379/0"))
/// try await redis.command(["SET", "greeting", "hello"])
/// try await redis.shutdown()
/// ```
public final class RedisClient: Sendable {
    public let configuration: RedisConfiguration
    private let maxConnections: Int
    private let threads: NIOThreadPool
    private let pool: Mutex<Pool>

    /// Idle connections, and work handed to the threads (queued or running) that has not finished.
    private struct Pool {
        var idle: [RedisConnection] = []
        var busy = 0
    }

    /// - Parameter maxConnections: threads and connections this client may use at once. Default 4.
    public init(configuration: RedisConfiguration, maxConnections: Int = 4) {
        precondition(maxConnections > 0, "a Redis client needs at least one connection")
        self.configuration = configuration
        self.maxConnections = maxConnections
        self.threads = NIOThreadPool(numberOfThreads: maxConnections)
        self.pool = Mutex(Pool())
        threads.start()
    }

    /// Runs `body` with a connection, on one of the client's threads. `body` may block.
    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (RedisConnection) throws -> T) async throws -> T {
        pool.withLock { $0.busy += 1 }
        return try await threads.runIfActive {
            PipeSignal.blockOnThisThread()
            let connection = self.pool.withLock { $0.idle.popLast() } ?? RedisConnection(configuration: self.configuration)
            defer { self.checkIn(connection) }
            return try body(connection)
        }
    }

    /// Runs one command. Throws ``RedisError`` for an error reply or a connection failure.
    @discardableResult
    public func command(_ arguments: [RedisArgument]) async throws -> RedisReply {
        if let replies = try await sendingFirst([arguments]) {
            if case .error(let message) = replies[0] { throw RedisError(.serverError, message) }
            return replies[0]
        }
        return try await withConnection { try $0.command(arguments) }
    }

    /// Runs a blocking command whose server-side timeout is `timeout` (must be positive).
    @discardableResult
    public func blockingCommand(_ arguments: [RedisArgument], timeout: Duration) async throws -> RedisReply {
        try await withConnection { try $0.blockingCommand(arguments, timeout: timeout) }
    }

    /// Sends all commands in one round trip; error replies come back in place.
    public func pipeline(_ commands: [[RedisArgument]]) async throws -> [RedisReply] {
        if commands.isEmpty { return [] }
        if let replies = try await sendingFirst(commands) { return replies }
        return try await withConnection { try $0.pipeline(commands) }
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
        let commands = calls.map { script.call(keys: $0.keys, arguments: $0.arguments) }
        if let replies = try await sendingFirst(commands, then: { connection, replies in
            try connection.reissuingUnknownScript(script, calls: calls, replies: replies)
        }) {
            return replies
        }
        return try await withConnection { try $0.evaluatePipelined(script, calls: calls) }
    }

    /// Stops the client's threads and closes its connections. Commands after this throw.
    public func shutdown() async throws {
        try await threads.shutdownGracefully()
        pool.withLock { $0.idle.removeAll() }
    }

    // MARK: - The fast path

    /// Sends `commands` from this thread and reads the replies on a client thread (then runs `then` there, on the same
    /// connection); nil, having sent nothing, unless a thread is free and an open connection idle.
    private func sendingFirst(
        _ commands: [[RedisArgument]],
        then: @escaping @Sendable (RedisConnection, [RedisReply]) throws -> [RedisReply] = { $1 }
    ) async throws -> [RedisReply]? {
        // busy < maxConnections: a thread is free, so the replies are read at once and no more than maxConnections
        // connections are ever out of the idle list.
        let picked = pool.withLock { p -> RedisConnection? in
            guard p.busy < maxConnections, let connection = p.idle.popLast() else { return nil }
            p.busy += 1
            return connection
        }
        guard let connection = picked else { return nil }
        guard connection.sendWithoutBlocking(commands) else {
            checkIn(connection)
            return nil
        }
        return try await threads.runIfActive {
            PipeSignal.blockOnThisThread()
            defer { self.checkIn(connection) }
            return try then(connection, try connection.receiveReplies(commands.count))
        }
    }

    /// Back to the idle list once a thread is done with it.
    private func checkIn(_ connection: RedisConnection) {
        pool.withLock {
            $0.busy -= 1
            if $0.idle.count < maxConnections { $0.idle.append(connection) }
        }
    }
}

/// hiredis writes with write(2), which raises SIGPIPE when Redis has closed the socket mid-request, and SIGPIPE's
/// default action ends the process. The client's own threads block it, as libpq does for its sends: the write then
/// fails with EPIPE, reported as a lost connection. (The caller-thread send uses MSG_NOSIGNAL instead; no other
/// thread's signal mask is touched.)
enum PipeSignal {
    private final class Blocked: Sendable {}
    private static let blocked = ThreadSpecificVariable<Blocked>()

    static func blockOnThisThread() {
        guard blocked.currentValue == nil else { return }
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &set, nil)
        blocked.currentValue = Blocked()
    }
}
