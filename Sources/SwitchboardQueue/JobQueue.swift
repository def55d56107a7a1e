import FoundationEssentials
import Synchronization
public import SwitchboardRedis

/// The producer's view of the queues: enqueue jobs, one or a batch per round trip.
///
/// ```swift
/// let queue = JobQueue(redis: redis)
/// let id = try await queue.enqueue(SendReceipt(orderID: "42"), options: .init(delay: .seconds(5)))
/// ```
public struct JobQueue: Sendable {
    public let redis: RedisClient
    /// Queue names this process has already added to `sb:queues`.
    private static let registered = Mutex<Set<String>>([])

    public init(redis: RedisClient) { self.redis = redis }

    /// Enqueues one job and returns its id (for a duplicate of a unique key: the id of the job holding it).
    @discardableResult
    public func enqueue<P: JobParameters>(_ parameters: P, options: JobOptions = .init()) async throws -> String {
        try await enqueue(batch: [parameters], options: options)[0]
    }

    /// Enqueues many jobs of one type with the same options in one round trip; ids come back in order.
    @discardableResult
    public func enqueue<P: JobParameters>(batch: [P], options: JobOptions = .init()) async throws -> [String] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let payloads: [[UInt8]]
        do {
            payloads = try batch.map { Array(try encoder.encode($0)) }
        } catch {
            throw QueueError(.encodingFailed, "parameters of \(P.jobName) do not encode as JSON: \(type(of: error))")
        }
        let resolved = JobOptions(
            queue: options.queue ?? P.queue, delay: options.delay, unique: options.unique,
            retryPolicy: options.retryPolicy ?? P.retryPolicy, timeout: options.timeout ?? P.timeout)
        return try await enqueue(name: P.jobName, payloads: payloads, options: resolved)
    }

    /// Enqueues jobs by name with JSON payloads (the CLI's `enqueue`, and jobs whose type this process does not link).
    /// The payloads must be JSON the handler decodes; missing options fall back to the library defaults.
    @discardableResult
    public func enqueue(name: String, payloads: [[UInt8]], options: JobOptions = .init()) async throws -> [String] {
        let queue = options.queue ?? "default"
        try QueueKeys.validate(queue)
        guard !name.isEmpty else { throw QueueError(.invalidOptions, "a job needs a name") }
        if let delay = options.delay, delay < .zero { throw QueueError(.invalidOptions, "a delay cannot be negative") }
        let retry = options.retryPolicy ?? .default
        let stored = StoredOptions(retry: retry, timeoutMs: (options.timeout ?? .seconds(300)).milliseconds)
        let optionsJSON = Array(try JSONEncoder().encode(stored))
        let keys = QueueKeys(queue: queue)
        let delayMs = max(0, options.delay?.milliseconds ?? 0)
        let unique = options.unique
        var calls: [(keys: [RedisArgument], arguments: [RedisArgument])] = []
        var ids: [String] = []
        ids.reserveCapacity(payloads.count)
        // At most 500 jobs per script call (Lua's argument limits), all calls in one pipeline. With a unique key every
        // job gets a call of its own, so each is decided on its own against whatever other producers sent meanwhile;
        // the first creates the job and the rest return its id.
        let perCall = unique == nil ? 500 : 1
        for chunk in stride(from: 0, to: payloads.count, by: perCall) {
            let slice = payloads[chunk..<min(chunk + perCall, payloads.count)]
            var arguments: [RedisArgument] = [.string(keys.prefix), .string(queue), .int(slice.count)]
            arguments.reserveCapacity(3 + slice.count * 9)
            for payload in slice {
                let id = JobID.make()
                ids.append(id)
                arguments += [
                    .string(id), .string(name), .bytes(payload), .int(delayMs), .int(retry.maxAttempts),
                    .string(unique?.key ?? ""), .string(unique?.mode.rawValue ?? ""), .int(unique?.ttl.milliseconds ?? 0), .bytes(optionsJSON),
                ]
            }
            calls.append((keys: [.string(keys.ready), .string(keys.scheduled), .string(keys.doorbell)], arguments: arguments))
        }
        let pipelined = calls
        let register = !Self.registered.withLock { $0.contains(queue) }
        let replies = try await redis.withConnection { connection -> [RedisReply] in
            // The registry of queue names (for ops) is a key of its own, outside the queue's slot, so it cannot be in
            // the script; each process adds a name once, not on every enqueue.
            if register {
                _ = try connection.command("SADD", .string(QueueKeys.registry), .string(queue))
                Self.registered.withLock { _ = $0.insert(queue) }
            }
            return try connection.evaluatePipelined(QueueScripts.enqueue, calls: pipelined)
        }
        var result: [String] = []
        result.reserveCapacity(ids.count)
        for reply in replies {
            if case .error(let message) = reply { throw RedisError(.serverError, message) }
            guard let items = reply.array else { throw QueueError(.unexpectedReply, "enqueue returned \(reply)") }
            result += items.compactMap(\.string)
        }
        guard result.count == ids.count else { throw QueueError(.unexpectedReply, "enqueue returned \(result.count) ids for \(ids.count) jobs") }
        return result
    }

    /// Adds `queue` to `sb:queues` (for ops), once per process.
    func register(queue: String) async throws {
        guard !Self.registered.withLock({ $0.contains(queue) }) else { return }
        _ = try await redis.command(["SADD", .string(QueueKeys.registry), .string(queue)])
        Self.registered.withLock { _ = $0.insert(queue) }
    }
}

/// Job ids: 128 random bits, lower-case UUID text.
enum JobID {
    static func make() -> String { UUID().uuidString.lowercased() }
}
