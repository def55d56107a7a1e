import FoundationEssentials
public import Logging
public import ServiceLifecycle
public import SwitchboardRedis
public import SwitchboardQueue

/// Fires schedule entries as jobs. Any number of replicas may run: one holds the leader lease and fires; the others
/// check once a second whether the lease is free. Each tick is enqueued exactly once whoever fires it (`fire.lua`
/// checks the tick against the entry's cursor and job id in the same step), so two leaders at once — a paused
/// process whose lease lapsed — cannot double a tick, and a leader that dies mid-tick loses nothing: the next one
/// fires every tick after the cursor.
public struct Scheduler: Service {
    public let redis: RedisClient
    public let entries: [ScheduleEntry]
    public let options: Options
    /// The job types entries may name: a fired job gets its type's declared options. An entry naming no type here
    /// runs with the library defaults (and its own retry policy).
    public let jobTypes: [any JobParameters.Type]
    let logger: Logger

    public struct Options: Sendable {
        /// How long the leader lease lasts without renewal. Default 3 s: a SIGKILLed leader's successor fires
        /// within about this plus ``checkInterval``, well inside an entry's default grace.
        public var leaseDuration: Duration = .seconds(3)
        /// How often the leader renews and followers look for a free lease. Default 1 s.
        public var checkInterval: Duration = .seconds(1)
        /// This replica's identity in the lease. Default `host:pid:random`.
        public var replicaID: String = WorkerOptions().workerID
        /// Replicas with the same group share one leader: run one group per set of schedule files. Default `default`.
        public var group: String = "default"
        public init() {}
    }

    /// The group's lease key, `sb:scheduler:<group>:leader` (outside every queue's slot: it only saves work, the
    /// exactly-once guarantee does not rest on it).
    public static func leaderKey(group: String) -> String { "sb:scheduler:\(group):leader" }
    var leaderKey: String { Self.leaderKey(group: options.group) }
    static let leaderScript = RedisScript(name: "leader", source: String(decoding: PackageResources.leader_lua, as: UTF8.self))

    public init(
        redis: RedisClient, entries: [ScheduleEntry], options: Options = .init(), jobTypes: [any JobParameters.Type] = [], logger: Logger
    ) {
        self.redis = redis
        self.entries = entries
        self.options = options
        self.jobTypes = jobTypes
        self.logger = logger
    }

    public func run() async throws {
        logger.info("scheduler started", metadata: ["entries": "\(entries.count)", "replica": "\(options.replicaID)"])
        await cancelWhenGracefulShutdown { await self.loop() }
        // Hand the lease on at once rather than make the next replica wait for it to lapse.
        let released = try? await redis.evaluate(
            Self.leaderScript, keys: [.string(leaderKey)], arguments: ["release", .string(options.replicaID)])
        logger.info("scheduler stopped", metadata: ["released_lease": "\(released?.int == 1)"])
    }

    private func loop() async {
        var leader = false
        var cursors: [String: Int64] = [:]
        while !Task.isCancelled {
            let holds: Bool
            do {
                holds =
                    try await redis.evaluate(
                        Self.leaderScript, keys: [.string(leaderKey)],
                        arguments: ["hold", .string(options.replicaID), .int(options.leaseDuration.milliseconds)]
                    ).int == 1
            } catch {
                logger.warning("cannot reach Redis for the leader lease; retrying", metadata: ["error": "\(error)"])
                holds = false
            }
            if holds != leader {
                logger.info(holds ? "leading: this replica fires the schedules" : "following: another replica leads")
                cursors = [:]  // another leader may have moved them: read them again
                leader = holds
            }
            var wake = Self.now() + options.checkInterval.milliseconds
            if leader {
                for entry in entries {
                    if let next = await tick(entry, cursors: &cursors) { wake = min(wake, next) }
                }
            }
            try? await Task.sleep(for: .milliseconds(max(0, wake - Self.now())))
        }
    }

    /// Fires what is due for one entry; returns its next tick (Unix ms).
    private func tick(_ entry: ScheduleEntry, cursors: inout [String: Int64]) async -> Int64? {
        do {
            let series = try TickSeries(redis: redis, queue: entry.queue, name: entry.name)
            var cursor = cursors[entry.name]
            if cursor == nil { cursor = try await series.record().cursor }
            let now = Self.now()
            let plan = entry.plan(cursor: cursor, now: now)
            if !plan.fire.isEmpty || plan.advanceTo != cursor {
                // The job type's declared options (timeout, retry policy, lock, limits), as every enqueue path has them.
                let job = try JobQueue.NewJob(
                    name: entry.jobName, payload: entry.payload, options: JobOptions(queue: entry.queue, retryPolicy: entry.retryPolicy),
                    among: jobTypes)
                let result = try await series.fire(
                    ticks: plan.fire, advanceTo: plan.advanceTo, jobName: entry.jobName, payload: entry.payload, options: job.options)
                cursor = result.cursor
                if plan.missed > 0 {
                    logger.warning(
                        "missed ticks while no scheduler ran",
                        metadata: ["entry": "\(entry.name)", "missed": "\(plan.missed)", "policy": "\(entry.missed)"])
                }
                for id in result.enqueued {
                    logger.info("fired", metadata: ["entry": "\(entry.name)", "job.id": "\(id)", "queue": "\(entry.queue)"])
                }
            }
            cursors[entry.name] = cursor
            return entry.nextFire(after: cursor ?? now)
        } catch {
            logger.error("cannot fire; retrying", metadata: ["entry": "\(entry.name)", "error": "\(error)"])
            cursors[entry.name] = nil
            return nil
        }
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}
