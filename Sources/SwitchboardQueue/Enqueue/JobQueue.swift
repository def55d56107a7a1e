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
        // Each job may name its own lock and limits (built from its parameters); one encoder for the whole batch.
        let encoder = parametersEncoder()
        return try await enqueue(jobs: try batch.map { NewJob($0, payload: try encodeParameters($0, with: encoder), options: options) })
    }

    /// Enqueues jobs by name with JSON payloads (the CLI's `enqueue`, and jobs whose type this process does not link).
    /// The payloads must be JSON the handler decodes; missing options fall back to the library defaults.
    @discardableResult
    public func enqueue(name: String, payloads: [[UInt8]], options: JobOptions = .init()) async throws -> [String] {
        try await enqueue(jobs: payloads.map { NewJob(name: name, payload: $0, options: options) })
    }

    /// One job for ``enqueue(jobs:)``: a name, its JSON parameters, and its own options.
    public struct NewJob: Sendable {
        public var name: String
        public var payload: [UInt8]
        public var options: JobOptions
        /// A job by name, with options as given: nothing is filled in from a job type. Prefer the typed initialiser,
        /// or ``init(name:payload:options:among:)`` for a name this process has a type for.
        public init(name: String, payload: [UInt8], options: JobOptions = .init()) {
            self.name = name
            self.payload = payload
            self.options = options
        }

        /// A job of type `P`: its parameters encoded as JSON, and `options` with what the type declares filled in
        /// (queue, retry policy, timeout, lock key, rate and concurrency limits), as every typed enqueue does.
        public init<P: JobParameters>(_ parameters: P, options: JobOptions = .init()) throws(QueueError) {
            self.init(name: P.jobName, payload: try encodeParameters(parameters), options: options.resolved(for: parameters))
        }

        /// A job by name whose type may be among `types` (the CLI's `enqueue`, the scheduler): when it is, `payload`
        /// is decoded as that type and `options` resolved as ``init(_:options:)`` resolves them; otherwise they stay
        /// as given. `typed` says which happened.
        /// - Throws: ``QueueError`` when the payload does not decode as the named type's parameters.
        public init(name: String, payload: [UInt8], options: JobOptions, among types: [any JobParameters.Type]) throws(QueueError) {
            guard let type = types.first(where: { $0.jobName == name }) else {
                self.init(name: name, payload: payload, options: options)
                typed = false
                return
            }
            self.init(name: name, payload: payload, options: try Self.resolve(type, payload: payload, options: options))
        }

        /// Whether the options were resolved from a job type (false only for a name no given type has).
        public private(set) var typed = true

        private static func resolve<P: JobParameters>(_ jobType: P.Type, payload: [UInt8], options: JobOptions) throws(QueueError) -> JobOptions {
            do {
                return options.resolved(for: try JSONDecoder().decode(P.self, from: Data(payload)))
            } catch {
                throw QueueError(.decodingFailed, "the parameters do not decode as those of \(P.jobName): \(type(of: error))")
            }
        }

        /// As ``init(_:options:)``, with the parameters already encoded as `payload` (a caller that writes their JSON
        /// faster than `JSONEncoder`; it must decode as `P`).
        public init<P: JobParameters>(_ parameters: P, payload: [UInt8], options: JobOptions = .init()) {
            self.init(name: P.jobName, payload: payload, options: options.resolved(for: parameters))
        }
    }

    /// Enqueues jobs that may differ in name, queue and options (each its own unique key, say) in one round trip;
    /// returns their ids in order (for a duplicate of a unique key: the id of the job holding it). Either Redis
    /// accepted every job or this throws; a caller that times out may retry safely when every job has a unique key.
    @discardableResult
    public func enqueue(jobs: [NewJob]) async throws -> [String] {
        if jobs.contains(where: { $0.options.debounce != nil }) {
            var ids: [String] = []
            for job in jobs { ids += job.options.debounce == nil ? try await enqueue(jobs: [job]) : [try await enqueueDebounced(job)] }
            return ids
        }
        struct Call {
            var queue: String
            var count: Int
            var arguments: [RedisArgument]
        }
        var calls: [Call] = []
        var ids: [String] = []
        ids.reserveCapacity(jobs.count)
        var queues: Set<String> = []
        for job in jobs {
            let options = job.options
            let queue = options.queue ?? "default"
            guard !job.name.isEmpty else { throw QueueError(.invalidOptions, "a job needs a name") }
            let stored = try options.stored()
            let retry = stored.retry
            let optionsJSON = try OptionsCache.json(for: stored)
            let unique = options.unique
            let id = JobID.make()
            ids.append(id)
            queues.insert(queue)
            let fields: [RedisArgument] = [
                .string(id), .string(job.name), .bytes(job.payload), .int(max(0, options.delay?.milliseconds ?? 0)), .int(retry.maxAttempts),
                .string(unique?.key ?? ""), .string(unique?.mode.rawValue ?? ""), .int(unique?.ttl.milliseconds ?? 0), .bytes(optionsJSON),
            ]
            // At most 500 consecutive jobs of one queue per script call (Lua's argument limits), all calls in one
            // pipeline. The script decides each unique key in turn, atomically: a later job in the same call sees the
            // key an earlier one took, exactly as it would across calls.
            if let last = calls.last, last.queue == queue, last.count < 500 {
                calls[calls.count - 1].count += 1
                calls[calls.count - 1].arguments += fields
            } else {
                let k = QueueKeys(queue: queue)
                calls.append(Call(queue: queue, count: 1, arguments: [.string(k.prefix), .string(queue), 1] + fields))
            }
        }
        let pipelined = calls.map { call -> (keys: [RedisArgument], arguments: [RedisArgument]) in
            let k = QueueKeys(queue: call.queue)
            var arguments = call.arguments
            arguments[2] = .int(call.count)
            return (
                keys: [.string(k.ready), .string(k.scheduled), .string(k.doorbell), .string(k.waiters), .string(k.active), .string(k.paused)],
                arguments: arguments
            )
        }
        // The registry of queue names (for ops) is a key of its own, outside the queue's slot, so it cannot be in the
        // script; each process adds a name once, not on every enqueue.
        for queue in queues { try await register(queue: queue) }
        let replies = try await redis.evaluatePipelined(QueueScripts.enqueue, calls: pipelined)
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

    /// One debounced job (``DebounceOptions``): joins the key's pending job or schedules a new one; returns its id.
    func enqueueDebounced(_ job: NewJob) async throws -> String {
        guard let debounce = job.options.debounce else { throw QueueError(.invalidOptions, "not a debounced job") }
        guard job.options.unique == nil, job.options.delay == nil else {
            throw QueueError(.invalidOptions, "a debounced job cannot also have a unique key or a delay")
        }
        try debounce.validate()
        let queue = job.options.queue ?? "default"
        let stored = try job.options.stored()
        let retry = stored.retry
        let keys = QueueKeys(queue: queue)
        try await register(queue: queue)
        let reply = try await redis.evaluate(
            QueueScripts.debounce, keys: [.string(keys.scheduled), .string(keys.prefix + "debounce:" + debounce.key)],
            arguments: [
                .string(keys.prefix), .string(queue), .string(JobID.make()), .string(job.name), .bytes(job.payload), .int(retry.maxAttempts),
                .bytes(try OptionsCache.json(for: stored)), .int(debounce.window.milliseconds), .int(debounce.maxWait.milliseconds),
                .string(debounce.collect ? "1" : "0"),
            ])
        guard let id = reply.array?.first?.string else { throw QueueError(.unexpectedReply, "debounce returned \(reply)") }
        return id
    }

    /// Adds `queue` to `sb:queues` (for ops), once per process.
    func register(queue: String) async throws {
        guard !Self.registered.withLock({ $0.contains(queue) }) else { return }
        _ = try await redis.command(["SADD", .string(QueueKeys.registry), .string(queue)])
        Self.registered.withLock { _ = $0.insert(queue) }
    }
}

/// A job's parameters as the JSON stored in the queue (keys sorted, so equal parameters make equal payloads).
func encodeParameters<P: JobParameters>(_ parameters: P, with encoder: JSONEncoder = parametersEncoder()) throws(QueueError) -> [UInt8] {
    do {
        return Array(try encoder.encode(parameters))
    } catch {
        throw QueueError(.encodingFailed, "parameters of \(P.jobName) do not encode as JSON: \(type(of: error))")
    }
}

/// The encoder of job parameters: keys sorted.
func parametersEncoder() -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    return encoder
}

extension JobOptions {
    /// These options with the job type's defaults, and the parameters' own lock and limits, filled in.
    public func resolved<P: JobParameters>(for parameters: P) -> JobOptions {
        var o = self
        o.queue = o.queue ?? P.queue
        o.retryPolicy = o.retryPolicy ?? P.retryPolicy
        o.timeout = o.timeout ?? P.timeout
        o.lock = o.lock ?? parameters.lockKey
        o.rateLimit = o.rateLimit ?? parameters.rateLimit
        o.concurrency = o.concurrency ?? parameters.concurrencyLimit
        return o
    }

    /// What the worker reads back, after checking the queue name, the delay, and the keys and limits (each becomes a
    /// Redis hash tag). Every way of creating a job goes through it.
    func stored() throws(QueueError) -> StoredOptions {
        try QueueKeys.validate(queue ?? "default")
        if let delay, delay < .zero { throw QueueError(.invalidOptions, "a delay cannot be negative") }
        if let lock { try QueueKeys.validateTag(lock, what: "lock key") }
        try rateLimit?.validate()
        try concurrency?.validate()
        var stored = StoredOptions(
            retry: retryPolicy ?? .default, timeoutMs: timeout?.milliseconds ?? StoredOptions.defaultTimeoutMs, lock: lock, rate: rateLimit,
            concurrency: concurrency)
        stored.join = join
        return stored
    }
}

/// Job ids: a random (version 4) UUID as lower-case text. Built from two 64-bit draws of the system generator and a
/// hex table rather than Foundation's `UUID`, whose code path is several times longer: on an idle producer each
/// enqueue pays for it in cache misses (docs/benchmarks.md).
enum JobID {
    private static let hex = Array("0123456789abcdef".utf8)

    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = (generator.next() & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000  // version 4
        let low = (generator.next() & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000  // RFC 4122 variant
        return String(unsafeUninitializedCapacity: 36) { out in
            var i = 0
            func put(_ value: UInt64, nibbles: ClosedRange<Int>) {
                for n in nibbles.reversed() {
                    if i == 8 || i == 13 || i == 18 || i == 23 {
                        out[i] = UInt8(ascii: "-")
                        i += 1
                    }
                    out[i] = hex[Int((value >> UInt64(n * 4)) & 0xF)]
                    i += 1
                }
            }
            put(high, nibbles: 0...15)
            put(low, nibbles: 0...15)
            return i
        }
    }
}
