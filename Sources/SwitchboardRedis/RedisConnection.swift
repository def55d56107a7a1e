import CHiredis
import Glibc
import Synchronization

/// One blocking connection to Redis over hiredis.
///
/// Every call blocks the calling thread until Redis answers, so call it only from a thread that
/// may block — ``RedisClient`` runs it on its own threads. It connects lazily, reconnects with
/// exponential backoff when the server went away, and re-issues AUTH and SELECT on every new socket.
/// The hiredis context is owned here alone, guarded by a mutex, and freed in `deinit`.
public final class RedisConnection: Sendable {
    public let configuration: RedisConfiguration
    private let handle: Mutex<Handle>

    /// The hiredis context (nil while disconnected). Never leaves this file.
    private struct Handle: ~Copyable {
        var context: UnsafeMutablePointer<redisContext>?
        deinit { if let context { redisFree(context) } }
    }

    public init(configuration: RedisConfiguration) {
        self.configuration = configuration
        self.handle = Mutex(Handle(context: nil))
    }

    /// Opens the socket now rather than on first use. Throws the same errors a command would.
    public func connect() throws {
        try handle.withLock { h in try ensureConnected(&h) }
    }

    /// Closes the socket; the next command reconnects.
    public func close() {
        handle.withLock { h in drop(&h) }
    }

    /// Whether a socket is open (it may still turn out to be dead on next use).
    public var isConnected: Bool { handle.withLock { $0.context != nil } }

    /// Runs one command and returns its reply.
    /// - Throws: ``RedisError`` — ``RedisError/Code/serverError`` for an error reply, or a connection error.
    @discardableResult
    public func command(_ arguments: [RedisArgument]) throws -> RedisReply {
        try handle.withLock { h in try checked(try send(&h, arguments, blockingFor: nil)) }
    }

    @discardableResult
    public func command(_ arguments: RedisArgument...) throws -> RedisReply {
        try command(arguments)
    }

    /// Runs a blocking command (BLMOVE, BLPOP, BZPOPMIN, XREAD BLOCK, …) whose own server-side timeout is `timeout`.
    /// The socket timeout is raised to `timeout` plus the usual command timeout for this one call.
    @discardableResult
    public func blockingCommand(_ arguments: [RedisArgument], timeout: Duration) throws -> RedisReply {
        try handle.withLock { h in try checked(try send(&h, arguments, blockingFor: timeout)) }
    }

    /// Sends all commands, then reads all replies (one round trip). A long pipeline is written in slices of about
    /// 64 KiB as it is encoded, so Redis runs its first commands while the rest are still being encoded.
    /// Error replies come back in place as ``RedisReply/error(_:)``; connection errors throw.
    public func pipeline(_ commands: [[RedisArgument]]) throws -> [RedisReply] {
        if commands.isEmpty { return [] }
        return try handle.withLock { h in
            try ensureConnected(&h)
            var wire: [UInt8] = []
            wire.reserveCapacity(Self.sliceBytes + 4096)
            for arguments in commands {
                RESPEncoding.append(arguments, to: &wire)
                if wire.count >= Self.sliceBytes {
                    try writeAll(&h, wire)
                    wire.removeAll(keepingCapacity: true)
                }
            }
            if !wire.isEmpty { try writeAll(&h, wire) }
            let ctx = h.context!
            var replies: [RedisReply] = []
            replies.reserveCapacity(commands.count)
            for _ in commands {
                var raw: UnsafeMutableRawPointer?
                if redisGetReply(ctx, &raw) != REDIS_OK || raw == nil { throw ioError(&h) }
                replies.append(RedisReply(copying: raw!))
                freeReplyObject(raw)
            }
            return replies
        }
    }

    /// How much of a long pipeline is written at a time.
    static let sliceBytes = 64 << 10

    /// Runs a Lua script by EVALSHA; on NOSCRIPT it runs it once more by EVAL with its source (which also caches it).
    @discardableResult
    public func evaluate(_ script: RedisScript, keys: [RedisArgument], arguments: [RedisArgument]) throws -> RedisReply {
        let call = script.call(keys: keys, arguments: arguments)
        do {
            return try command(call)
        } catch let error as RedisError where error.serverErrorPrefix == "NOSCRIPT" {
            return try command(script.sourceCall(keys: keys, arguments: arguments))
        }
    }

    /// Runs one script several times in one round trip (pipelined EVALSHA). Calls the server answered with NOSCRIPT
    /// did not run; just those calls are sent again with the source. Error replies come back in place.
    public func evaluatePipelined(_ script: RedisScript, calls: [(keys: [RedisArgument], arguments: [RedisArgument])]) throws -> [RedisReply] {
        try reissuingUnknownScript(script, calls: calls, replies: try pipeline(calls.map { script.call(keys: $0.keys, arguments: $0.arguments) }))
    }

    /// `replies` to pipelined EVALSHA `calls`, with those the server answered NOSCRIPT (which did not run) run again
    /// by EVAL with the script's source.
    func reissuingUnknownScript(
        _ script: RedisScript, calls: [(keys: [RedisArgument], arguments: [RedisArgument])], replies: [RedisReply]
    ) throws -> [RedisReply] {
        var replies = replies
        let missing = replies.indices.filter { if case .error(let m) = replies[$0] { return m.hasPrefix("NOSCRIPT") } else { return false } }
        if !missing.isEmpty {
            // EVAL with the source, not SCRIPT LOAD then EVALSHA: a flush between the two cannot fail the retry.
            let again = try pipeline(missing.map { script.sourceCall(keys: calls[$0].keys, arguments: calls[$0].arguments) })
            for (i, reply) in zip(missing, again) { replies[i] = reply }
        }
        return replies
    }

    // MARK: - Send now, read on another thread (RedisClient's fast path)

    /// Writes `commands` from the calling thread without ever blocking it: only when the socket is already open and
    /// healthy (checked by a non-blocking poll) does it format them and `send` with `MSG_DONTWAIT`. Whatever the
    /// kernel did not take at once is queued in hiredis's output buffer, which ``receiveReplies(_:)`` writes before
    /// it reads. Returns false, having written nothing, when the socket is closed or unhealthy: use the blocking path,
    /// which reconnects. After true, the caller must call ``receiveReplies(_:)`` for `commands.count` replies before
    /// anything else uses this connection.
    func sendWithoutBlocking(_ commands: [[RedisArgument]]) -> Bool {
        handle.withLock { h in
            guard let ctx = h.context, ctx.pointee.err == 0, !peerHasClosed(ctx.pointee.fd) else { return false }
            let wire = RESPEncoding.encode(commands)
            let sent = wire.withUnsafeBytes { Glibc.send(ctx.pointee.fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) }
            // -1 (would block, or an error the blocking write will report) sent nothing: queue it all.
            let from = max(0, sent)
            if from < wire.count {
                let rc = wire.withUnsafeBytes { raw in
                    redisAppendFormattedCommand(ctx, raw.baseAddress!.assumingMemoryBound(to: CChar.self) + from, wire.count - from)
                }
                if rc != REDIS_OK {
                    // Out of memory in hiredis; bytes may be on the wire: this socket cannot be trusted any more.
                    drop(&h)
                    return from > 0 ? true : false
                }
            }
            return true
        }
    }

    /// Reads `count` replies for what ``sendWithoutBlocking(_:)`` sent (writing its queued rest first). Blocks.
    /// Error replies come back in place; a connection error throws and closes the socket.
    func receiveReplies(_ count: Int) throws -> [RedisReply] {
        try handle.withLock { h in
            guard let ctx = h.context else {
                throw RedisError(.connectionLost, "connection to \(configuration.address) lost while sending; the command may or may not have run")
            }
            var replies: [RedisReply] = []
            replies.reserveCapacity(count)
            for _ in 0..<count {
                var raw: UnsafeMutableRawPointer?
                if redisGetReply(ctx, &raw) != REDIS_OK || raw == nil { throw ioError(&h) }
                replies.append(RedisReply(copying: raw!))
                freeReplyObject(raw)
            }
            return replies
        }
    }

    // MARK: - Internals (run with the mutex held)

    private func checked(_ reply: RedisReply) throws -> RedisReply {
        if case .error(let message) = reply { throw RedisError(.serverError, message) }
        return reply
    }

    private func send(_ h: inout Handle, _ arguments: [RedisArgument], blockingFor: Duration?) throws -> RedisReply {
        try ensureConnected(&h)
        let ctx = h.context!
        if let blockingFor { redisSetTimeout(ctx, timeval(blockingFor + configuration.commandTimeout)) }
        let raw = withArgv(arguments) { argc, argv, lengths in redisCommandArgv(ctx, argc, argv, lengths) }
        guard let raw else { throw ioError(&h) }
        defer { freeReplyObject(raw) }
        if blockingFor != nil { redisSetTimeout(ctx, timeval(configuration.commandTimeout)) }
        return RedisReply(copying: raw)
    }

    /// Writes `bytes` on the socket (blocking, within the command timeout). The context's own output buffer is empty
    /// here: only ``sendWithoutBlocking(_:)`` queues bytes in it, and its reply is read before anything else runs.
    private func writeAll(_ h: inout Handle, _ bytes: [UInt8]) throws {
        let fd = h.context!.pointee.fd
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                offset += n
                continue
            }
            if n < 0 && errno == EINTR { continue }
            let timedOut = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
            drop(&h)
            throw timedOut
                ? RedisError(
                    .timedOut, "Redis at \(configuration.address) did not take the request within the command timeout; part of it may have run")
                : RedisError(.connectionLost, "connection to \(configuration.address) lost while sending; the commands may or may not have run")
        }
    }

    /// Makes sure a live socket is open: drops one the server has closed, then connects with backoff.
    private func ensureConnected(_ h: inout Handle) throws {
        if let ctx = h.context {
            if ctx.pointee.err == 0 && !peerHasClosed(ctx.pointee.fd) { return }
            drop(&h)
        }
        var delay = configuration.initialReconnectDelay
        var lastError = RedisError(.connectionFailed, "could not connect to \(configuration.address)")
        let attempts = max(1, configuration.reconnectAttempts)
        for attempt in 1...attempts {
            do {
                h.context = try open()
                return
            } catch let error as RedisError where error.code == .authenticationFailed || error.code == .serverError {
                throw error  // a wrong password or database does not get better by retrying
            } catch let error as RedisError {
                lastError = error
            }
            if attempt < attempts {
                sleepBlocking(delay)
                delay = min(delay * 2, configuration.maxReconnectDelay)
            }
        }
        throw RedisError(.connectionFailed, "\(lastError.message) (gave up after \(attempts) attempts; is redis-server running there?)")
    }

    /// Opens a socket, then AUTH and SELECT. Frees the context on any failure.
    private func open() throws -> UnsafeMutablePointer<redisContext> {
        let tv = timeval(configuration.connectTimeout)
        let ctx: UnsafeMutablePointer<redisContext>?
        switch configuration.endpoint {
        case .tcp(let host, let port): ctx = redisConnectWithTimeout(host, Int32(port), tv)
        case .unixSocket(let path): ctx = redisConnectUnixWithTimeout(path, tv)
        }
        guard let ctx else { throw RedisError(.connectionFailed, "could not allocate a connection to \(configuration.address)") }
        if ctx.pointee.err != 0 {
            let why = errorString(ctx)
            redisFree(ctx)
            throw RedisError(.connectionFailed, "cannot connect to \(configuration.address): \(why)")
        }
        redisSetTimeout(ctx, timeval(configuration.commandTimeout))
        do {
            if let password = configuration.password {
                var auth: [RedisArgument] = ["AUTH"]
                if let user = configuration.username { auth.append(.string(user)) }
                auth.append(.string(password))
                if case .error(let message) = try rawCommand(ctx, auth) {
                    // The server's text never echoes the password; keep only its first sentence anyway.
                    let reason = message.prefix(while: { $0 != "." })
                    throw RedisError(
                        .authenticationFailed, "AUTH to \(configuration.address) was refused (\(reason)); check the user and password in REDIS_URL")
                }
            }
            if configuration.database != 0, case .error(let message) = try rawCommand(ctx, ["SELECT", .int(configuration.database)]) {
                throw RedisError(.serverError, "SELECT \(configuration.database) on \(configuration.address) failed: \(message)")
            }
        } catch {
            redisFree(ctx)
            throw error
        }
        return ctx
    }

    private func rawCommand(_ ctx: UnsafeMutablePointer<redisContext>, _ arguments: [RedisArgument]) throws -> RedisReply {
        let raw = withArgv(arguments) { argc, argv, lengths in redisCommandArgv(ctx, argc, argv, lengths) }
        guard let raw else {
            throw RedisError(.connectionLost, "connection to \(configuration.address) failed during set-up: \(errorString(ctx))")
        }
        defer { freeReplyObject(raw) }
        return RedisReply(copying: raw)
    }

    /// Turns the context's error into a RedisError and drops the (now unusable) context.
    private func ioError(_ h: inout Handle) -> RedisError {
        guard let ctx = h.context else { return RedisError(.connectionLost, "not connected to \(configuration.address)") }
        let why = errorString(ctx)
        let timedOut = ctx.pointee.err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK)
        drop(&h)
        if timedOut {
            return RedisError(.timedOut, "no reply from \(configuration.address) within the command timeout; the command may or may not have run")
        }
        return RedisError(.connectionLost, "connection to \(configuration.address) lost (\(why)); the command may or may not have run")
    }

    private func drop(_ h: inout Handle) {
        if let ctx = h.context { redisFree(ctx) }
        h.context = nil
    }

    private func errorString(_ ctx: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: ctx.pointee.errstr) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }
}

/// True when the server has closed the socket (or sent something unasked), so it must be reopened
/// before use. One non-blocking poll: no round trip.
private func peerHasClosed(_ fd: Int32) -> Bool {
    var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    guard poll(&p, 1, 0) > 0 else { return false }
    if p.revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 { return true }
    var byte: UInt8 = 0
    let n = recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
    if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return false }
    return true  // EOF, an error, or unsolicited bytes: in every case the socket cannot be trusted
}

/// Calls `body` with a hiredis argv/argvlen pair pointing into one contiguous copy of the arguments.
/// The pointers are valid only inside `body`.
private func withArgv<R>(
    _ arguments: [RedisArgument],
    _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R
) -> R {
    var flat: [UInt8] = []
    flat.reserveCapacity(arguments.reduce(1) { $0 + $1.bytes.count })
    var lengths: [Int] = []
    lengths.reserveCapacity(arguments.count)
    for argument in arguments {
        flat.append(contentsOf: argument.bytes)
        lengths.append(argument.bytes.count)
    }
    flat.append(0)  // never empty, so there is always a base address
    return flat.withUnsafeBufferPointer { buffer in
        let base = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
        var pointers: [UnsafePointer<CChar>?] = []
        pointers.reserveCapacity(arguments.count + 1)
        var offset = 0
        for length in lengths {
            pointers.append(base + offset)
            offset += length
        }
        pointers.append(nil)
        return pointers.withUnsafeMutableBufferPointer { argv in
            lengths.withUnsafeBufferPointer { argvlen in
                body(Int32(arguments.count), argv.baseAddress!, argvlen.baseAddress ?? UnsafePointer(bitPattern: 8)!)
            }
        }
    }
}

extension RedisReply {
    /// Deep-copies a hiredis reply; the caller still frees it.
    init(copying raw: UnsafeMutableRawPointer) {
        self.init(reply: raw.assumingMemoryBound(to: redisReply.self).pointee)
    }

    private init(reply r: redisReply) {
        switch r.type {
        case REDIS_REPLY_STRING:
            self = .bulk(r.str == nil ? [] : Array(UnsafeRawBufferPointer(start: r.str, count: r.len)))
        case REDIS_REPLY_STATUS:
            self = .status(String(decoding: UnsafeRawBufferPointer(start: r.str, count: r.len), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            self = .error(String(decoding: UnsafeRawBufferPointer(start: r.str, count: r.len), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            self = .integer(Int64(r.integer))
        case REDIS_REPLY_ARRAY:
            var items: [RedisReply] = []
            items.reserveCapacity(r.elements)
            for i in 0..<r.elements { items.append(RedisReply(reply: r.element[i]!.pointee)) }
            self = .array(items)
        default:
            self = .null
        }
    }
}

extension timeval {
    init(_ d: Duration) {
        let (seconds, attoseconds) = d.components
        self.init(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }
}

/// Sleeps the current (dedicated, blocking) thread.
func sleepBlocking(_ d: Duration) {
    let (seconds, attoseconds) = d.components
    var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
}
