import FoundationEssentials
public import SwitchboardRedis

/// A recurring series of jobs on one queue (a scheduler entry): each tick is enqueued at most once, however many
/// processes fire it, and a cursor records the newest tick handled. Tick `t` becomes the job `<name>@<t>`.
public struct TickSeries: Sendable {
    public let redis: RedisClient
    public let queue: String
    public let name: String

    /// What Redis holds about the series.
    public struct Record: Sendable, Hashable {
        /// The newest tick handled (fired or skipped), Unix ms; nil before the series was first seen.
        public var cursor: Int64?
        /// The newest tick enqueued, and when.
        public var lastFiredTick: Int64?
        public var lastFiredAt: Int64?
        /// Ticks enqueued so far.
        public var fired: Int64
    }

    /// `name`: letters, digits, `-`, `_`, `.`; 1–100 characters (it becomes part of job ids).
    public init(redis: RedisClient, queue: String, name: String) throws(QueueError) {
        try QueueKeys.validate(queue)
        try Self.validate(name: name)
        self.redis = redis
        self.queue = queue
        self.name = name
    }

    /// Checks a series name: 1–100 letters, digits, `-`, `_` or `.`.
    public static func validate(name: String) throws(QueueError) {
        guard (1...100).contains(name.count), name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
            throw QueueError(.invalidOptions, "name \"\(name)\" must be 1-100 letters, digits, '-', '_' or '.'")
        }
    }

    var key: String { QueueKeys(queue: queue).series(name) }

    public func record() async throws -> Record {
        let f = try await redis.command(["HMGET", .string(key), "cursor_ms", "fired_tick_ms", "fired_at_ms", "fired"]).array ?? []
        func n(_ i: Int) -> Int64? { f.indices.contains(i) ? f[i].int : nil }
        return Record(cursor: n(0), lastFiredTick: n(1), lastFiredAt: n(2), fired: n(3) ?? 0)
    }

    /// Enqueues `ticks` (Unix ms, oldest first) that are newer than the cursor, as jobs `jobName` with `payload`,
    /// and moves the cursor to the newest tick or `advanceTo`, whichever is later. Returns the new cursor and the
    /// ids of the jobs this call created (ticks another process already enqueued are not repeated). `options`: as
    /// resolved for the job's type (``JobQueue/NewJob/init(name:payload:options:among:)``); the queue is the series'.
    public func fire(
        ticks: [Int64], advanceTo: Int64, jobName: String, payload: [UInt8], options: JobOptions = .init()
    ) async throws -> (cursor: Int64, enqueued: [String]) {
        let keys = QueueKeys(queue: queue)
        var options = options
        options.queue = queue
        let stored = try options.stored()
        let optionsJSON = try OptionsCache.json(for: stored)
        let reply = try await redis.evaluate(
            QueueScripts.fire,
            keys: [.string(keys.ready), .string(keys.scheduled), .string(keys.doorbell), .string(key)],
            arguments: [
                .string(keys.prefix), .string(queue), .string(name), .string(jobName), .bytes(payload), .int(stored.retry.maxAttempts),
                .bytes(optionsJSON), .int(advanceTo),
            ] + ticks.map { .int($0) })
        guard let items = reply.array, let cursor = items.first?.int else { throw QueueError(.unexpectedReply, "fire returned \(reply)") }
        try await JobQueue(redis: redis).register(queue: queue)
        return (cursor, items.dropFirst().compactMap(\.string))
    }
}
