/// A job type: its parameters, encoded as JSON into the queue, plus defaults for how it runs.
///
/// ```swift
/// struct SendReceipt: JobParameters {
///     static let jobName = "send-receipt"      // stable wire name: never rename, add a new type instead
///     static let retryPolicy = RetryPolicy(maxAttempts: 5)
///     let orderID: String
/// }
/// ```
public protocol JobParameters: Codable, Sendable {
    /// The stable name written into every queued job.
    static var jobName: String { get }
    /// The queue it goes to unless the enqueue says otherwise. Default `default`.
    static var queue: String { get }
    /// Attempts and backoff unless the enqueue says otherwise. Default ``RetryPolicy/default``.
    static var retryPolicy: RetryPolicy { get }
    /// The soft timeout: the handler is cancelled after this and the attempt counts as failed. Default 5 minutes.
    static var timeout: Duration { get }
    /// Run under this lock (built from the parameters: `"conversation:\(conversationID)"`): while another job holds it,
    /// this one is put back for a short while without using an attempt. Default nil: no lock.
    var lockKey: String? { get }
    /// Run within this rate limit (built from the parameters: per provider, per tenant): a job over it waits, without
    /// using an attempt. Default nil.
    var rateLimit: RateLimit? { get }
    /// Run at most `limit` at once per key (built from the parameters: `ConcurrencyLimit(key: "tenant:\(tenantID)",
    /// limit: 3)`): a job whose key is full waits, without using an attempt. Default nil.
    var concurrencyLimit: ConcurrencyLimit? { get }
}

extension JobParameters {
    public static var queue: String { "default" }
    public static var retryPolicy: RetryPolicy { .default }
    public static var timeout: Duration { .seconds(300) }
    public var lockKey: String? { nil }
    public var rateLimit: RateLimit? { nil }
    public var concurrencyLimit: ConcurrencyLimit? { nil }
}

/// How a unique key holds back duplicates.
public enum UniqueMode: String, Sendable, Codable, CaseIterable {
    /// Until the job starts: a duplicate enqueued while it runs creates a new job.
    case whileQueued = "queued"
    /// Until the job finishes (succeeds or dies).
    case whileActive = "active"
    /// An idempotency record: until `ttl` after the job finishes, a duplicate returns the first job's id.
    case idempotent
}

/// A unique key and how it holds.
public struct UniqueOptions: Sendable, Hashable {
    public var key: String
    public var mode: UniqueMode
    /// How long the key lives at most (for `idempotent`: how long after completion). Default 24 h.
    public var ttl: Duration

    public init(key: String, mode: UniqueMode = .whileActive, ttl: Duration = .seconds(86_400)) {
        self.key = key
        self.mode = mode
        self.ttl = ttl
    }
}

/// Debouncing: a burst of enqueues with one key becomes one job that runs once the burst goes quiet.
public struct DebounceOptions: Sendable, Hashable {
    public var key: String
    /// Each enqueue pushes the run time to now + window…
    public var window: Duration
    /// …but never past the first enqueue of the burst + max wait, so a steady stream still runs every max wait.
    public var maxWait: Duration
    /// Also keep every enqueue's parameters, in order (up to 1,000), for the handler:
    /// ``JobContext/collected(_:)``. The burst's first enqueue decides. Default false: only the last parameters.
    public var collect: Bool

    public init(key: String, window: Duration, maxWait: Duration, collect: Bool = false) {
        self.key = key
        self.window = window
        self.maxWait = maxWait
        self.collect = collect
    }
}

extension DebounceOptions {
    func validate() throws(QueueError) {
        guard window > .zero, maxWait >= window, !key.isEmpty, key.count <= 200 else {
            throw QueueError(.invalidOptions, "debounce needs a key of 1-200 characters, a window above zero and a max wait no shorter than it")
        }
    }
}

/// Per-enqueue choices; each `nil` falls back to the job type's default.
public struct JobOptions: Sendable {
    public var queue: String?
    /// Run no earlier than this far from now.
    public var delay: Duration?
    public var unique: UniqueOptions?
    public var retryPolicy: RetryPolicy?
    public var timeout: Duration?
    /// Run under this distributed lock (see ``JobParameters/lockKey``); nil takes the parameters' own.
    public var lock: String?
    /// Coalesce with other enqueues of the same key (the job runs once, with the last parameters). Not combined
    /// with `delay` or `unique`.
    public var debounce: DebounceOptions?
    /// Run within this rate limit (see ``JobParameters/rateLimit``); nil takes the parameters' own.
    public var rateLimit: RateLimit?
    /// Run at most so many at once per key (see ``JobParameters/concurrencyLimit``); nil takes the parameters' own.
    public var concurrency: ConcurrencyLimit?
    /// Set by ``JobContext/enqueueOnSuccess(members:thenJoin:)`` on a join's members.
    var join: JoinMembership? = nil

    public init(
        queue: String? = nil, delay: Duration? = nil, unique: UniqueOptions? = nil, retryPolicy: RetryPolicy? = nil, timeout: Duration? = nil,
        lock: String? = nil, debounce: DebounceOptions? = nil, rateLimit: RateLimit? = nil, concurrency: ConcurrencyLimit? = nil
    ) {
        self.concurrency = concurrency
        self.rateLimit = rateLimit
        self.debounce = debounce
        self.queue = queue
        self.delay = delay
        self.unique = unique
        self.retryPolicy = retryPolicy
        self.timeout = timeout
        self.lock = lock
    }
}

/// What the worker reads back from a stored job: the effective retry policy, timeout, lock and limits.
///
/// Stored as JSON without the values that equal the defaults (``RetryPolicy/default``, ``defaultTimeoutMs``): a job
/// with default options stores `{}`. That keeps every field of a small job's hash under Redis's
/// `hash-max-listpack-value` (64 bytes), so the hash is one compact listpack rather than a hash table (the memory
/// saved is in docs/benchmarks.md).
struct StoredOptions: Codable, Sendable, Hashable {
    var retry: RetryPolicy
    var timeoutMs: Int64
    /// The lock the job runs under, if any.
    var lock: String? = nil
    /// The rate limit it runs within, if any.
    var rate: RateLimit? = nil
    /// The per-key concurrency limit it runs within, if any.
    var concurrency: ConcurrencyLimit? = nil
    /// The join it is a member of, if any.
    var join: JoinMembership? = nil

    /// The soft timeout of a job whose type and options set none: 5 minutes.
    static let defaultTimeoutMs: Int64 = 300_000

    init(retry: RetryPolicy, timeoutMs: Int64, lock: String? = nil, rate: RateLimit? = nil, concurrency: ConcurrencyLimit? = nil) {
        (self.retry, self.timeoutMs, self.lock, self.rate, self.concurrency) = (retry, timeoutMs, lock, rate, concurrency)
    }

    enum CodingKeys: String, CodingKey {
        case retry
        case timeoutMs = "timeout_ms"
        case lock, rate, concurrency, join
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            retry: try c.decodeIfPresent(RetryPolicy.self, forKey: .retry) ?? .default,
            timeoutMs: try c.decodeIfPresent(Int64.self, forKey: .timeoutMs) ?? Self.defaultTimeoutMs,
            lock: try c.decodeIfPresent(String.self, forKey: .lock), rate: try c.decodeIfPresent(RateLimit.self, forKey: .rate),
            concurrency: try c.decodeIfPresent(ConcurrencyLimit.self, forKey: .concurrency))
        join = try c.decodeIfPresent(JoinMembership.self, forKey: .join)
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        if retry != .default { try c.encode(retry, forKey: .retry) }
        if timeoutMs != Self.defaultTimeoutMs { try c.encode(timeoutMs, forKey: .timeoutMs) }
        try c.encodeIfPresent(lock, forKey: .lock)
        try c.encodeIfPresent(rate, forKey: .rate)
        try c.encodeIfPresent(concurrency, forKey: .concurrency)
        try c.encodeIfPresent(join, forKey: .join)
    }
}
