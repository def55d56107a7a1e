import Glibc
public import Hummingbird
public import HummingbirdCore
public import Logging
public import NIOCore
import NIOHTTPTypes
import Synchronization

/// Limits that keep slow and idle clients from exhausting the receiver: every connection must keep making progress, and
/// only so many may be open at once.
public struct ConnectionLimits: Sendable {
    /// A connection with no request on it is closed after this. Default 30 s.
    public var idleTimeout: Duration = .seconds(30)
    /// From a request's first byte to the end of its head. Default 10 s.
    public var headTimeout: Duration = .seconds(10)
    /// From a request's head to the end of its body. Default 30 s.
    public var bodyTimeout: Duration = .seconds(30)
    /// Connections open at once at most; a connection past it is closed as soon as it is accepted. Default: half the
    /// process's open-file limit (at most 10,000), so the receiver always keeps descriptors for Redis and PostgreSQL.
    public var maxConnections: Int = ConnectionLimits.defaultMaxConnections

    public init() {}

    public static var defaultMaxConnections: Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1000 }
        return Int(max(64, min(10_000, limit.rlim_cur / 2)))
    }
}

/// Hummingbird's HTTP/1 channel with Switchboard's connection guard in front of it: idle, head and body deadlines, a
/// cap on open connections, and logging of clients that go away or stall at a rate that cannot flood the log.
///
/// Two handlers share one ``ConnectionState`` per connection: ``ByteWatcher``, first in the pipeline, sees bytes arrive
/// (a head has started) and connections open and close; ``PartWatcher``, after the HTTP decoder, sees heads, request
/// ends and response ends. Both run on the connection's event loop, so the state needs no lock.
struct GuardedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let inner: HTTP1Channel
    let limits: ConnectionLimits
    let census: ConnectionCensus

    init(responder: @escaping HTTPChannelHandler.Responder, limits: ConnectionLimits, census: ConnectionCensus) {
        self.limits = limits
        self.census = census
        self.inner = HTTP1Channel(
            responder: responder, configuration: .init(additionalChannelHandlers: [PartWatcher()]))
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        do {
            let state = ConnectionState(limits: limits, census: census)
            try channel.pipeline.syncOperations.addHandler(ByteWatcher(state: state), position: .first)
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        return inner.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}

/// Open connections across the server, and the log lines about connections, at most one per kind every 10 s (each
/// with how many happened since the last).
public final class ConnectionCensus: Sendable {
    /// What happened to a connection.
    public enum Event: String, Sendable, CaseIterable {
        case refused = "closed at once: the connection limit is reached"
        case idle = "closed: idle past the idle timeout"
        case slowHead = "closed: the request head did not arrive within the head timeout"
        case slowBody = "closed: the request body did not arrive within the body timeout"
        case clientGone = "the client went away before its request was read"
    }

    private struct Counts: ~Copyable {
        var open = 0
        var pending: [Event: Int] = [:]
        var lastLogged: [Event: ContinuousClock.Instant] = [:]
        /// Kinds whose held-back count a task will log when their 10 s are up.
        var flushing: Set<Event> = []
    }

    let logger: Logger
    let limit: Int
    private let counts = Mutex(Counts())
    static let logInterval = Duration.seconds(10)

    public init(limit: Int, logger: Logger) {
        self.limit = limit
        self.logger = logger
    }

    /// Counts a new connection; false (and not counted) when the limit is reached.
    func admit() -> Bool {
        let admitted = counts.withLock { c -> Bool in
            guard c.open < limit else { return false }
            c.open += 1
            return true
        }
        if !admitted { record(.refused) }
        return admitted
    }

    func release() { counts.withLock { $0.open -= 1 } }

    /// Counts `event` and logs it when no line about it went out in the last 10 s; otherwise holds it back, and a line
    /// with the count held back goes out when the 10 s are up. The refusal is a warning (capacity needs a look); stalls
    /// and departures are notices (clients on bad networks cause them all the time); closing an idle keep-alive
    /// connection is routine, so debug.
    func record(_ event: Event) {
        let now = ContinuousClock.now
        enum Next {
            case log(Int)
            case flush(at: ContinuousClock.Instant)
            case nothing
        }
        let next = counts.withLock { c -> Next in
            c.pending[event, default: 0] += 1
            if let last = c.lastLogged[event], now - last < Self.logInterval {
                guard c.flushing.insert(event).inserted else { return .nothing }
                return .flush(at: last + Self.logInterval)
            }
            c.lastLogged[event] = now
            defer { c.pending[event] = 0 }
            return .log(c.pending[event] ?? 1)
        }
        switch next {
        case .log(let count): log(event, count: count)
        case .flush(let at):
            Task {
                try? await Task.sleep(until: at, clock: .continuous)
                let count = counts.withLock { c -> Int in
                    c.flushing.remove(event)
                    c.lastLogged[event] = .now
                    defer { c.pending[event] = 0 }
                    return c.pending[event] ?? 0
                }
                if count > 0 { log(event, count: count) }
            }
        case .nothing: break
        }
    }

    private func log(_ event: Event, count: Int) {
        let metadata: Logger.Metadata = ["count": "\(count)", "limit": "\(limit)"]
        switch event {
        case .refused: logger.warning("connection \(event.rawValue) (raise WEB_MAX_CONNECTIONS or add replicas)", metadata: metadata)
        case .idle: logger.debug("connection \(event.rawValue)", metadata: metadata)
        case .slowHead, .slowBody, .clientGone: logger.notice("connection \(event.rawValue)", metadata: metadata)
        }
    }
}

/// Where one connection is, and its one deadline. Used on the connection's event loop only.
final class ConnectionState {
    enum Phase {
        /// No request on the connection (just opened, or the last response went out).
        case idle
        /// A request's first bytes came; its head has not been decoded yet.
        case head
        /// A head came; its body has not ended.
        case body
        /// The request is read and being answered: no deadline (the handler has its own).
        case answering
    }

    let limits: ConnectionLimits
    let census: ConnectionCensus
    var phase = Phase.idle
    var counted = false
    /// Set when a deadline closed the connection (so its close is not also counted as the client leaving).
    var expired = false
    var deadline: Scheduled<Void>?
    /// The pipeline's first context, for closing the connection from a deadline.
    var context: ChannelHandlerContext?

    init(limits: ConnectionLimits, census: ConnectionCensus) {
        self.limits = limits
        self.census = census
    }

    /// Moves to `phase` and arms its deadline.
    func enter(_ phase: Phase) {
        self.phase = phase
        deadline?.cancel()
        deadline = nil
        guard let context else { return }
        let timeout: Duration
        let event: ConnectionCensus.Event
        switch phase {
        case .idle: (timeout, event) = (limits.idleTimeout, .idle)
        case .head: (timeout, event) = (limits.headTimeout, .slowHead)
        case .body: (timeout, event) = (limits.bodyTimeout, .slowBody)
        case .answering: return
        }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            let (state, context) = loopBound.value
            guard state.phase == phase else { return }
            state.expired = true
            state.census.record(event)
            context.close(promise: nil)
        }
    }
}

/// First in the pipeline: admits or refuses the connection, and starts the head deadline when a request's first
/// bytes arrive.
final class ByteWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let state: ConnectionState

    init(state: ConnectionState) { self.state = state }

    func handlerAdded(context: ChannelHandlerContext) {
        state.context = context
        if context.channel.isActive { start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    private func start(_ context: ChannelHandlerContext) {
        guard !state.counted else { return }
        guard state.census.admit() else {
            context.close(promise: nil)
            return
        }
        state.counted = true
        state.enter(.idle)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if state.phase == .idle { state.enter(.head) }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if state.counted {
            state.counted = false
            state.census.release()
            // Gone with a request half read: the client went away (or a deadline closed it, already counted).
            if state.phase == .head || state.phase == .body, !state.expired { state.census.record(.clientGone) }
        }
        state.deadline?.cancel()
        state.deadline = nil
        state.context = nil
        context.fireChannelInactive()
    }
}

/// After the HTTP decoder: a head moves the connection to its body deadline, the request's end lifts it, the
/// response's end starts the idle deadline.
final class PartWatcher: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private var state: ConnectionState?

    func handlerAdded(context: ChannelHandlerContext) {
        state = try? context.pipeline.syncOperations.handler(type: ByteWatcher.self).state
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: state?.enter(.body)
        case .body: break
        case .end: state?.enter(.answering)
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), let state, state.phase == .answering { state.enter(.idle) }
        context.write(data, promise: promise)
    }
}
