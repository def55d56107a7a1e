import Foundation
@testable import SwitchboardRedis
import Testing

/// The hiredis client against a real redis-server.
@Suite("Redis client", .timeLimit(.minutes(2)))
struct RedisClientTests {
    /// A key prefix per test so parallel tests on the shared server never collide.
    /// A hash tag keeps every key of one test in one Cluster slot (BLMOVE moves between two of them).
    let prefix = "test:{\(UUID().uuidString)}:"

    func withClient(_ url: String? = nil, maxConnections: Int = 2, _ body: (RedisClient) async throws -> Void) async throws {
        let client = RedisClient(configuration: try RedisConfiguration(url: url ?? TestEnvironment.redisURL()), maxConnections: maxConnections)
        do {
            try await body(client)
        } catch {
            try await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    @Test func tenThousandPipelinedCommandsComeBackInOrder() async throws {
        try await withClient { redis in
            let counter = RedisArgument(prefix + "counter")
            let started = ContinuousClock.now
            let increments = try await redis.pipeline(Array(repeating: ["INCR", counter], count: 10_000))
            let elapsed = ContinuousClock.now - started
            #expect(increments.count == 10_000)
            #expect(increments.map(\.int) == (1...10_000).map { Int64($0) })
            let sets = try await redis.pipeline((0..<10_000).map { ["SET", .string(prefix + "k\($0)"), .string("v\($0)")] })
            #expect(sets.allSatisfy { $0 == .status("OK") })
            let gets = try await redis.pipeline((0..<10_000).map { ["GET", .string(prefix + "k\($0)")] })
            #expect(gets.map(\.string) == (0..<10_000).map { "v\($0)" })
            print("pipeline: 10,000 INCR in \(elapsed)")
        }
    }

    @Test func binaryValuesWithNULBytesAndOneMegabyteRoundTrip() async throws {
        try await withClient { redis in
            let binary: [UInt8] = [0, 1, 0, 255, 0x0d, 0x0a, 0, 36, 42] + Array(0...255)
            var big = [UInt8](repeating: 0, count: 1 << 20)
            var generator = SystemRandomNumberGenerator()
            for i in big.indices { big[i] = UInt8.random(in: 0...255, using: &generator) }
            try await redis.command(["SET", .string(prefix + "bin"), .bytes(binary)])
            try await redis.command(["SET", .string(prefix + "big"), .bytes(big)])
            #expect(try await redis.command(["GET", .string(prefix + "bin")]) == .bulk(binary))
            #expect(try await redis.command(["GET", .string(prefix + "big")]).bytes == big)
            #expect(try await redis.command(["STRLEN", .string(prefix + "big")]) == .integer(1 << 20))
            // A key with a NUL byte in it is a different key from its prefix.
            try await redis.command(["SET", .bytes(Array((prefix + "a").utf8) + [0, 98]), "nul-key"])
            #expect(try await redis.command(["GET", .string(prefix + "a")]) == .null)
        }
    }

    @Test func repliesAreTyped() async throws {
        try await withClient { redis in
            let key = RedisArgument(prefix + "list")
            #expect(try await redis.command(["PING"]) == .status("PONG"))
            #expect(try await redis.command(["RPUSH", key, "a", "b"]) == .integer(2))
            #expect(try await redis.command(["LRANGE", key, 0, -1]) == .array([.bulk(Array("a".utf8)), .bulk(Array("b".utf8))]))
            #expect(try await redis.command(["GET", .string(prefix + "missing")]) == .null)
            let error = await #expect(throws: RedisError.self) { try await redis.command(["INCR", key]) }
            #expect(error?.code == .serverError)
            #expect(error?.serverErrorPrefix == "WRONGTYPE")
            // In a pipeline the error comes back in place and the other replies are intact.
            let replies = try await redis.pipeline([["LLEN", key], ["INCR", key], ["LLEN", key]])
            #expect(replies[0] == .integer(2))
            if case .error(let message) = replies[1] { #expect(message.hasPrefix("WRONGTYPE")) } else { Issue.record("expected an error reply") }
            #expect(replies[2] == .integer(2))
        }
    }

    @Test func evalshaRecoversAfterScriptFlush() async throws {
        let script = RedisScript(name: "echo-incr", source: "return {KEYS[1], ARGV[1], redis.call('INCR', KEYS[1])}")
        try await withClient { redis in
            let key = RedisArgument(prefix + "script")
            let first = try await redis.evaluate(script, keys: [key], arguments: ["x"])
            #expect(first == .array([.bulk(key.bytes), .bulk(Array("x".utf8)), .integer(1)]))
            #expect(try await redis.command(["SCRIPT", "EXISTS", .string(script.sha1)]) == .array([.integer(1)]))
            try await redis.command(["SCRIPT", "FLUSH"])
            #expect(try await redis.command(["SCRIPT", "EXISTS", .string(script.sha1)]) == .array([.integer(0)]))
            let second = try await redis.evaluate(script, keys: [key], arguments: ["y"])
            #expect(second.array?.last == .integer(2))
            #expect(try await redis.command(["SCRIPT", "EXISTS", .string(script.sha1)]) == .array([.integer(1)]))
        }
    }

    @Test func blockingCommandWaitsPastTheCommandTimeoutAndWakesOnPush() async throws {
        var configuration = try RedisConfiguration(url: try TestEnvironment.redisURL())
        configuration.commandTimeout = .milliseconds(300)
        let redis = RedisClient(configuration: configuration, maxConnections: 2)
        let source = RedisArgument(prefix + "src")
        let target = RedisArgument(prefix + "dst")
        // Nothing to take: BLPOP returns nil after its own 1 s, although the command timeout is 300 ms.
        let clock = ContinuousClock()
        let started = clock.now
        #expect(try await redis.blockingCommand(["BLPOP", source, 1], timeout: .seconds(1)) == .null)
        #expect(clock.now - started >= .milliseconds(900))
        // An item pushed while BLMOVE waits is handed over at once.
        async let moved = redis.blockingCommand(["BLMOVE", source, target, "LEFT", "RIGHT", 5], timeout: .seconds(5))
        try await Task.sleep(for: .milliseconds(200))
        try await redis.command(["RPUSH", source, "job-1"])
        #expect(try await moved == .bulk(Array("job-1".utf8)))
        #expect(try await redis.command(["LRANGE", target, 0, -1]) == .array([.bulk(Array("job-1".utf8))]))
        // The ordinary command timeout is back in force on the same connections.
        #expect(try await redis.command(["PING"]) == .status("PONG"))
        try await redis.shutdown()
    }

    @Test func reconnectsAfterTheServerRestarts() async throws {
        let server = try await RedisServerProcess()
        var configuration = try RedisConfiguration(url: server.url)
        configuration.reconnectAttempts = 3
        configuration.initialReconnectDelay = .milliseconds(20)
        let redis = RedisClient(configuration: configuration, maxConnections: 1)
        try await redis.command(["SET", "k", "before"])

        // Restarted while idle: the dead socket is noticed before the next command, which just works.
        await server.stop()
        try await server.start()
        #expect(try await redis.command(["PING"]) == .status("PONG"))
        #expect(try await redis.command(["GET", "k"]) == .null)  // a fresh server without persistence

        // Down: commands fail with a clear error naming the address, after the configured attempts.
        await server.stop()
        let down = await #expect(throws: RedisError.self) { try await redis.command(["PING"]) }
        #expect(down?.code == .connectionFailed)
        #expect(down?.message.contains("127.0.0.1:\(server.port)") == true)

        // Back up: the next command reconnects.
        try await server.start()
        #expect(try await redis.command(["PING"]) == .status("PONG"))
        try await redis.shutdown()
        await server.stop()
    }

    /// Many of these commands take the fast path (written from the caller's thread, read on a client thread): every
    /// caller still gets its own replies, and the client never opens more connections than it may.
    @Test func concurrentCallersGetTheirOwnRepliesOnAtMostMaxConnections() async throws {
        let server = try await RedisServerProcess()
        let redis = RedisClient(configuration: try RedisConfiguration(url: server.url), maxConnections: 2)
        let opened = try await connectionsOpened(redis)
        let prefix = self.prefix
        let wrong = try await withThrowingTaskGroup(of: Int.self) { group in
            for t in 0..<20 {
                group.addTask {
                    var wrong = 0
                    for i in 0..<30 {
                        let value = "t\(t)-\(i)"
                        if try await redis.command(["ECHO", .string(value)]).string != value { wrong += 1 }
                        let replies = try await redis.pipeline([["SET", .string(prefix + value), .string(value)], ["GET", .string(prefix + value)]])
                        if replies != [.status("OK"), .bulk(Array(value.utf8))] { wrong += 1 }
                        let script = try await redis.evaluate(
                            RedisScript(name: "echo", source: "return ARGV[1]"), keys: [], arguments: [.string(value)])
                        if script.string != value { wrong += 1 }
                    }
                    return wrong
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(wrong == 0)
        // The readiness probe and our first connection were counted before; one more connection at most since.
        let after = try await connectionsOpened(redis)
        #expect(after <= opened + 1, "connections opened: \(opened) before, \(after) after")
        try await redis.shutdown()
        await server.stop()
    }

    /// A task that prefers the client's executor runs on a client thread, and its calls run right there on that
    /// thread's connection (no hand-off): the thread that answers `withConnection` is the one the task runs on. Other
    /// callers meanwhile use the other threads. After shutdown such a task still runs to its end, and its calls throw.
    @Test func aTaskOnTheClientsExecutorMakesItsCallsInlineOnItsOwnThread() async throws {
        let redis = RedisClient(configuration: try RedisConfiguration(url: TestEnvironment.redisURL()), maxConnections: 2)
        let key = prefix + "pinned"
        let (same, values) = try await withTaskExecutorPreference(redis.taskExecutor) {
            var same = 0
            for i in 0..<200 {
                let mine = pthread_self()
                let ran = try await redis.withConnection { _ in pthread_self() }
                if pthread_equal(mine, ran) != 0 && pthread_self() == mine { same += 1 }
                try await redis.command(["RPUSH", .string(key), .string("\(i)")])
            }
            return (same, try await redis.command(["LRANGE", .string(key), "0", "-1"]).array?.compactMap(\.string) ?? [])
        }
        #expect(same == 200, "every call ran inline on the task's own client thread")
        #expect(values == (0..<200).map { "\($0)" })
        // The global executor's callers are served meanwhile as usual.
        #expect(try await redis.command(["LLEN", .string(key)]).int == 200)
        try await redis.command(["DEL", .string(key)])
        try await redis.shutdown()

        let afterShutdown: Bool = await withTaskExecutorPreference(redis.taskExecutor) {
            do {
                _ = try await redis.command(["PING"])
                return false
            } catch {
                return true
            }
        }
        #expect(afterShutdown, "after shutdown the task still runs, and its Redis calls fail")
    }

    private func connectionsOpened(_ redis: RedisClient) async throws -> Int {
        let stats = try await redis.command(["INFO", "stats"]).string ?? ""
        let line = stats.split(whereSeparator: \.isNewline).first { $0.hasPrefix("total_connections_received:") }
        return try #require(line.flatMap { Int($0.split(separator: ":")[1]) })
    }

    /// Requests larger than a fresh socket takes at once (its send buffer starts at 16 KiB): up to the send-first
    /// limit the caller writes what it can without blocking and the client thread writes the rest before reading;
    /// larger ones go the ordinary way. Either way they arrive whole and in order.
    @Test func requestsLargerThanTheSocketTakesAtOnceArriveWhole() async throws {
        // A random block of 65,537 bytes (odd, so a misplaced chunk shows), repeated. Built by copying blocks, not byte
        // by byte: this runs on a cooperative thread the whole suite shares.
        var generator = SystemRandomNumberGenerator()
        let block = (0..<65_537).map { _ in UInt8.random(in: 0...255, using: &generator) }
        func value(_ count: Int) -> [UInt8] {
            var out: [UInt8] = []
            out.reserveCapacity(count)
            while out.count < count { out += block.prefix(count - out.count) }
            return out
        }
        for size in [60 << 10, RedisClient.sendFirstLimit - 64, 16 << 20] {
            // Fresh connections each round: small send buffers, so the first write is partial.
            try await withClient(maxConnections: 1) { redis in
                #expect(try await redis.command(["PING"]) == .status("PONG"))  // parked with an open connection
                let big = value(size)
                try await redis.command(["SET", .string(prefix + "huge"), .bytes(big)])
                let replies = try await redis.pipeline([["STRLEN", .string(prefix + "huge")], ["GET", .string(prefix + "huge")]])
                #expect(replies[0] == .integer(Int64(size)))
                #expect(replies[1].bytes == big)
                try await redis.command(["DEL", .string(prefix + "huge")])
            }
        }
    }

    /// The connection-level half of the fast path with a server that reads nothing (SIGSTOPped): the caller's
    /// non-blocking send takes what the socket buffers hold and never blocks; the rest waits in hiredis's output
    /// buffer, and the thread that reads the replies writes it first.
    @Test func aSendTheSocketCannotTakeAtOnceIsFinishedByTheReader() async throws {
        let server = try await RedisServerProcess()
        let connection = RedisConnection(configuration: try RedisConfiguration(url: server.url))
        try await onPlainThread { try connection.connect() }
        let value = [UInt8](repeating: 97, count: 32 << 20)  // far more than loopback's buffers (4 MB at most here)
        server.signal(SIGSTOP)
        let started = ContinuousClock.now
        let sent = connection.sendWithoutBlocking([["SET", "k", .bytes(value)], ["STRLEN", "k"]])
        let sendTook = ContinuousClock.now - started
        #expect(sent)
        // A send that blocked would not return before SIGCONT; copying 32 MB into hiredis's buffer took up to 1.5 s
        // on this shared machine, so the margin is seconds (the suite's time limit catches a send that never returns).
        #expect(sendTook < .seconds(10), "the send returned after \(sendTook) with the server paused")
        server.signal(SIGCONT)
        let replies = try await onPlainThread { try connection.receiveReplies(2) }
        #expect(replies == [.status("OK"), .integer(32 << 20)])
        connection.close()
        await server.stop()
    }

    /// An idle connection the server closed is noticed before anything is written on it; the command reconnects.
    @Test func aConnectionKilledWhileIdleIsReplacedBeforeTheNextCommand() async throws {
        let server = try await RedisServerProcess()
        let redis = RedisClient(configuration: try RedisConfiguration(url: server.url), maxConnections: 1)
        try await redis.command(["SET", "k", "v"])
        let killer = RedisClient(configuration: try RedisConfiguration(url: server.url), maxConnections: 1)
        let killed = try await killer.command(["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"])
        #expect(killed == .integer(1))
        try await Task.sleep(for: .milliseconds(100))  // the FIN reaches our socket
        #expect(try await redis.command(["GET", "k"]) == .bulk(Array("v".utf8)))
        #expect(try await redis.pipeline([["INCR", "n"], ["INCR", "n"]]) == [.integer(1), .integer(2)])
        try await killer.shutdown()
        try await redis.shutdown()
        await server.stop()
    }

    /// The server closes the socket while a request is still being written (its bulk-length limit): the write fails
    /// with EPIPE and the call throws a lost connection. Without SIGPIPE blocked on the client's threads, this
    /// signal would end the test process.
    @Test func aServerClosingTheSocketMidRequestIsAnErrorNotASignal() async throws {
        let server = try await RedisServerProcess(extraArguments: ["--proto-max-bulk-len", "1mb"])
        let redis = RedisClient(configuration: try RedisConfiguration(url: server.url), maxConnections: 1)
        let big = [UInt8](repeating: 120, count: 32 << 20)
        for _ in 0..<3 {
            let error = await #expect(throws: RedisError.self) { try await redis.command(["SET", "k", .bytes(big)]) }
            #expect(error?.code == .connectionLost || error?.code == .serverError)
            #expect(try await redis.command(["PING"]) == .status("PONG"))
        }
        try await redis.shutdown()
        await server.stop()
    }

    @Test func wrongPasswordIsAClearErrorWithoutThePassword() async throws {
        let server = try await RedisServerProcess(extraArguments: ["--requirepass", "correct-horse"])
        let redis = RedisClient(configuration: try RedisConfiguration(url: "redis://:hunter2-wrong@127.0.0.1:\(server.port)/0"), maxConnections: 1)
        let error = await #expect(throws: RedisError.self) { try await redis.command(["PING"]) }
        #expect(error?.code == .authenticationFailed)
        let text = "\(error.map(String.init(describing:)) ?? "")"
        #expect(text.contains("127.0.0.1:\(server.port)"))
        #expect(text.contains("REDIS_URL"))
        #expect(!text.contains("hunter2"))
        #expect(!redis.configuration.description.contains("hunter2"))
        try await redis.shutdown()

        let good = RedisClient(configuration: try RedisConfiguration(url: "redis://:correct-horse@127.0.0.1:\(server.port)/2"), maxConnections: 1)
        try await good.command(["SET", "where", "db2"])
        #expect(try await good.command(["GET", "where"]) == .bulk(Array("db2".utf8)))
        try await good.shutdown()
        let db0 = RedisClient(configuration: try RedisConfiguration(url: "redis://:correct-horse@127.0.0.1:\(server.port)/0"), maxConnections: 1)
        #expect(try await db0.command(["GET", "where"]) == .null)  // SELECT took effect
        try await db0.shutdown()
        await server.stop()
    }
}
