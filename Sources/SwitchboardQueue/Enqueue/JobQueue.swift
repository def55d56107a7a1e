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

    /// Shares round trips between concurrent one-job enqueues.
    private let coalescer: EnqueueCoalescer

    public init(redis: RedisClient) {
        self.redis = redis
        self.coalescer = EnqueueCoalescer()
    }

    /// Enqueues one job and returns its id (for a duplicate of a unique key: the id of the job holding it).
    ///
    /// Concurrent calls on one `JobQueue` share round trips (``EnqueueCoalescer``): a call that finds the connection
    /// busy goes out with the others that gathered meanwhile, in one pipeline; a lone call goes out at once.
    @discardableResult
    public func enqueue<P: JobParameters>(_ parameters: P, options: JobOptions = .init()) async throws -> String {
        let job = try NewJob(parameters, options: options)
        if job.options.debounce != nil { return try await enqueueDebounced(job) }
        let prepared = try Self.prepare(job, id: JobID.make())
        try await register(queue: prepared.queue)
        return try await coalescer.submit([prepared], send: { [self] in try await self.send($0) })[0]
    }

    /// Enqueues many jobs of one type with the same options in one round trip; ids come back in order.
    @discardableResult
    public func enqueue<P: JobParameters>(batch: [P], options: JobOptions = .init()) async throws -> [String] {
        // Each job may name its own lock and limits (built from its parameters). The parameters are encoded as one JSON
        // array and cut into its elements: JSONEncoder's cost per call, not per value, was most of a bulk enqueue's
        // client time.
        let payloads = try encodeParameters(batch)
        return try await enqueue(jobs: batch.indices.map { NewJob(batch[$0], payload: payloads[$0], options: options) })
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
        try await enqueue(jobs: jobs, after: [])
    }

    /// Jobs per script call at most (Lua's argument limits; smaller calls measured no faster, docs/benchmarks.md).
    static let jobsPerCall = 500

    /// As ``enqueue(jobs:)``, with `commands` run first in the same round trip, so they land no later than the jobs
    /// (the web receiver's intake marks). Throws if Redis refused any command or job.
    @discardableResult
    public func enqueue(jobs: [NewJob], after commands: [[RedisArgument]]) async throws -> [String] {
        if jobs.contains(where: { $0.options.debounce != nil }) {
            guard commands.isEmpty else { throw QueueError(.invalidOptions, "debounced jobs cannot share a round trip with other commands") }
            var ids: [String] = []
            for job in jobs { ids += job.options.debounce == nil ? try await enqueue(jobs: [job]) : [try await enqueueDebounced(job)] }
            return ids
        }
        let ids = JobID.make(count: jobs.count)
        let prepared = try jobs.indices.map { try Self.prepare(jobs[$0], id: ids[$0]) }
        // The registry of queue names (for ops) is a key of its own, outside the queue's slot, so it cannot be in the
        // script; each process adds a name once, not on every enqueue.
        var queues: Set<String> = []
        for job in prepared where queues.insert(job.queue).inserted { try await register(queue: job.queue) }
        let (replies, results) = try await send(prepared, before: commands)
        for reply in replies { if case .error(let message) = reply { throw RedisError(.serverError, message) } }
        return try results.map { try $0.get() }
    }

    /// A job checked and given its id: the queue it goes to and its 9 values for `enqueue.lua`.
    struct PreparedJob: Sendable {
        let id: String
        let queue: String
        let fields: [RedisArgument]
    }

    /// Checks a job's name and options and gives it an id. Every non-debounced enqueue goes through it.
    static func prepare(_ job: NewJob, id: String) throws -> PreparedJob {
        let options = job.options
        guard !job.name.isEmpty else { throw QueueError(.invalidOptions, "a job needs a name") }
        let stored = try options.stored()
        let unique = options.unique
        return PreparedJob(
            id: id, queue: options.queue ?? "default",
            fields: [
                .string(id), .string(job.name), .bytes(job.payload), .int(max(0, options.delay?.milliseconds ?? 0)), .int(stored.retry.maxAttempts),
                .string(unique?.key ?? ""), .string(unique?.mode.rawValue ?? ""), .int(unique?.ttl.milliseconds ?? 0),
                .bytes(try OptionsCache.json(for: stored)),
            ])
    }

    /// Runs `enqueue.lua` for prepared jobs in one round trip: consecutive jobs of one queue share a script call (up to
    /// 500, Lua's argument limits). Returns each job's id (the holder's for a held unique key), or the error reply of
    /// its script call; throws when the round trip itself failed (the jobs may or may not be stored).
    func send(_ jobs: [PreparedJob]) async throws -> [Result<String, any Error>] {
        try await send(jobs, before: []).jobs
    }

    /// As ``send(_:)``, with `commands` run first in the same round trip (a caller's own writes that must land no
    /// later than its jobs); their replies come back in order, error replies in place.
    func send(_ jobs: [PreparedJob], before commands: [[RedisArgument]]) async throws -> (commands: [RedisReply], jobs: [Result<String, any Error>]) {
        // The script decides each unique key in turn, atomically: a later job in the same call sees the key an earlier
        // one took, exactly as it would across calls.
        var calls: [(keys: [RedisArgument], arguments: [RedisArgument])] = []
        var sizes: [Int] = []
        var start = 0
        while start < jobs.count {
            let queue = jobs[start].queue
            var end = start + 1
            while end < jobs.count, end - start < Self.jobsPerCall, jobs[end].queue == queue { end += 1 }
            let k = QueueKeys(queue: queue)
            var arguments: [RedisArgument] = [.string(k.prefix), .int(end - start)]
            arguments.reserveCapacity(2 + 9 * (end - start))
            for job in jobs[start..<end] { arguments += job.fields }
            calls.append(
                (
                    keys: [.string(k.ready), .string(k.scheduled), .string(k.doorbell), .string(k.waiters), .string(k.active), .string(k.paused)],
                    arguments: arguments
                ))
            sizes.append(end - start)
            start = end
        }
        var replies: [RedisReply]
        var before: [RedisReply] = []
        if commands.isEmpty {
            replies = try await redis.evaluatePipelined(QueueScripts.enqueue, calls: calls)
        } else {
            let all = try await redis.pipeline(commands + calls.map { QueueScripts.enqueue.call(keys: $0.keys, arguments: $0.arguments) })
            before = Array(all.prefix(commands.count))
            replies = Array(all.dropFirst(commands.count))
            // A script call the server did not know (after a SCRIPT FLUSH or a restart) did not run: run those again.
            let unknown = replies.indices.filter { if case .error(let m) = replies[$0] { m.hasPrefix("NOSCRIPT") } else { false } }
            if !unknown.isEmpty {
                let again = try await redis.evaluatePipelined(QueueScripts.enqueue, calls: unknown.map { calls[$0] })
                for (i, reply) in zip(unknown, again) { replies[i] = reply }
            }
        }
        var results: [Result<String, any Error>] = []
        results.reserveCapacity(jobs.count)
        var offset = 0
        for (reply, size) in zip(replies, sizes) {
            let call = jobs[offset..<offset + size]
            offset += size
            if case .error(let message) = reply {
                results += Array(repeating: .failure(RedisError(.serverError, message)), count: size)
                continue
            }
            // Created jobs keep the ids they were given; the reply names only the duplicates, by position.
            var ids = call.map(\.id)
            guard let pairs = reply.array, pairs.count % 2 == 0 else {
                results += Array(repeating: .failure(QueueError(.unexpectedReply, "enqueue returned \(reply)")), count: size)
                continue
            }
            var valid = true
            for k in stride(from: 0, to: pairs.count, by: 2) {
                guard let position = pairs[k].int, (1...size).contains(Int(position)), let holder = pairs[k + 1].string else {
                    valid = false
                    break
                }
                ids[Int(position) - 1] = holder
            }
            results +=
                valid ? ids.map { .success($0) } : Array(repeating: .failure(QueueError(.unexpectedReply, "enqueue returned \(reply)")), count: size)
        }
        return (before, results)
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
