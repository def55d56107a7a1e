public import Logging
public import ServiceLifecycle
public import SwitchboardRedis
import FoundationEssentials
import Synchronization
import Glibc

/// Runs jobs from Redis queues in one process with ``WorkerOptions/concurrency`` slots.
///
/// - Takes jobs with the `take` script only for free slots. When none are ready it waits for its in-process bell —
///   rung by one listener per queue blocked in BLPOP on that queue's doorbell — or for a local timer set to the next
///   scheduled job or lease deadline, whichever comes first. No polling: an enqueue rings the doorbell.
/// - Extends leases every ``WorkerOptions/heartbeatInterval``; a job whose lease was lost is cancelled and not finished.
/// - Runs each job in a task of its own; one watchdog (100 ms tick) enforces soft and hard timeouts.
/// - Graceful shutdown: stop taking, let running jobs finish for ``WorkerOptions/gracePeriod``, then cancel the rest
///   and hand them back to ready without using up an attempt.
public final class QueueWorker: Service, Sendable {
    let redis: RedisClient
    let registry: JobRegistry
    let options: WorkerOptions
    let logger: Logger
    let state = Mutex(State())
    let completions: CompletionBatcher
    let bell = Bell()
    let metrics = WorkerMetrics()
    private let slotFreed: AsyncStream<Void>
    let slotFreedContinuation: AsyncStream<Void>.Continuation

    struct State {
        var running: [String: Running] = [:]
        /// Handlers executing now. A job whose handler returned frees its slot at once, while its outcome is still
        /// being recorded (it stays in `running`, and leased, until then), so taking and finishing overlap.
        var handlersRunning = 0
        var stopping = false
        var handingBack = false
        var processed = 0
    }

    struct Running {
        let queue: String
        let token: String
        /// When the soft timeout cancels the handler.
        let softDeadline: ContinuousClock.Instant
        /// Soft timeout + hard-timeout grace: past this the process is given up on.
        let hardDeadline: ContinuousClock.Instant
        var task: Task<Void, Never>?
        var lost = false
        var timedOut = false
        /// The lock and concurrency slot the job holds while it runs (extended with the lease, released when its
        /// outcome is recorded).
        var holds: [Hold] = []
    }

    /// - Parameter redis: a client with at least 3 + (number of queues) connections: one per queue blocks on its doorbell,
    ///   one heartbeats, the rest take and finish jobs.
    public init(redis: RedisClient, registry: JobRegistry, options: WorkerOptions, logger: Logger) {
        self.redis = redis
        self.registry = registry
        self.options = options
        var logger = logger
        logger[metadataKey: "worker.id"] = "\(options.workerID)"
        self.logger = logger
        (slotFreed, slotFreedContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        completions = CompletionBatcher(redis: redis, workerID: options.workerID, retention: options.doneRetention, relayGrace: options.relayGrace)
    }

    /// Jobs finished (completed, failed or handed back) by this worker so far.
    public var processedCount: Int { state.withLock { $0.processed } }
    /// Jobs running now.
    public var runningCount: Int { state.withLock { $0.running.count } }

    /// Asks the worker to stop taking jobs and drain (the same as a graceful-shutdown signal).
    public func stop() {
        state.withLock { $0.stopping = true }
        bell.ring()
    }

    public func run() async throws {
        for queue in options.queues { try QueueKeys.validate(queue) }
        logger.info("worker started", metadata: ["queues": "\(options.queues.joined(separator: ","))", "concurrency": "\(options.concurrency)"])
        // The process record exists before the first lease, so ops `check` never sees a lease without a live holder.
        await heartbeat()
        await withDiscardingTaskGroup { group in
            group.addTask { await self.completions.run() }
            group.addTask { await self.heartbeatLoop() }
            group.addTask { await self.watchdogLoop() }
            for queue in self.options.queues { group.addTask { await self.doorbellListener(queue: queue) } }
            await withGracefulShutdownHandler {
                await self.fetchLoop()
            } onGracefulShutdown: {
                self.stop()
            }
            self.stop()
            await self.drain()
            // Every job has finished and awaited its completion; let the batcher and the loops end.
            completions.close()
        }
        await removeHeartbeat()
        logger.info("worker stopped", metadata: ["processed": "\(processedCount)"])
    }

    // MARK: - Taking jobs

    /// Reserves every free slot (the fetch loop and the doorbell listeners may take at the same time; reserving first
    /// means they never lease more jobs than there are slots). Unused reservations go back with ``releaseSlots(_:)``.
    func reserveSlots(max limit: Int = .max) -> Int {
        state.withLock { s in
            let free = min(limit, max(0, options.concurrency - s.handlersRunning))
            s.handlersRunning += free
            return free
        }
    }

    func releaseSlots(_ count: Int) {
        guard count > 0 else { return }
        state.withLock { $0.handlersRunning -= count }
        slotFreedContinuation.yield()
    }

    private func fetchLoop() async {
        var slots = slotFreed.makeAsyncIterator()
        var generator = SystemRandomNumberGenerator()
        var failures = 0
        while !state.withLock({ $0.stopping }) && !Task.isCancelled {
            let free = reserveSlots()
            if free <= 0 {
                _ = await slots.next()
                continue
            }
            var taken = 0
            do {
                var waitMs = options.maxBlock.milliseconds
                let order = options.queueOrder(using: &generator)
                for queue in order where taken < free {
                    let (wait, jobs) = try await take(queue: queue, count: free - taken)
                    if wait >= 0 { waitMs = min(waitMs, wait) }
                    for job in jobs { start(job) }
                    taken += jobs.count
                }
                releaseSlots(free - taken)
                failures = 0
                if taken == 0 && waitMs > 0 { await bell.wait(timeout: .milliseconds(waitMs)) }
            } catch {
                releaseSlots(free - taken)
                failures += 1
                let pause = Duration.milliseconds(min(5_000, 100 << min(failures, 6)))
                logger.info("taking jobs failed; retrying", metadata: ["error": "\(error)", "retry.in": "\(pause)"])
                try? await Task.sleep(for: pause)
            }
        }
    }

    private func take(queue: String, count: Int) async throws -> (Int64, [LeasedJob]) {
        try await redis.withConnection { try self.take(queue: queue, count: count, on: $0) }
    }

    /// The take script on a given connection (blocking; runs on the client's thread). `waiting`: jobs already handed
    /// to this worker come first, and if none at all is leased the worker registers for a direct handoff.
    func take(queue: String, count: Int, waiting: Bool = false, on connection: RedisConnection) throws -> (Int64, [LeasedJob]) {
        let keys = QueueKeys(queue: queue)
        let reply = try connection.evaluate(
            QueueScripts.take,
            keys: [
                .string(keys.ready), .string(keys.scheduled), .string(keys.retry), .string(keys.active), .string(keys.dead), .string(keys.paused),
                .string(keys.doorbell), .string(keys.waiters), .string(keys.inbox(options.workerID)),
            ],
            arguments: [
                .string(keys.prefix), .int(count), .int(options.leaseDuration.milliseconds), .string(options.workerID), .string(utcDay()),
                .int(options.deadRetention.count), .int(options.deadRetention.age.milliseconds), .string(waiting ? "1" : "0"),
            ])
        guard let list = reply.array else { throw QueueError(.unexpectedReply, "take returned \(reply)") }
        return try LeasedJob.parse(list, queue: queue)
    }

    // MARK: - Running a job

    /// Registers the job as running (its slot is already reserved), then runs it in a task of its own (one per job: cancellable on its own when its
    /// lease is lost, its soft timeout passes, or the drain hands it back; ``drain()`` waits for all of them).
    ///
    /// `immediately`: the task begins on the calling thread and runs there up to its first suspension (`Task.immediate`),
    /// instead of waiting for a cooperative thread to wake. For a handed-off job,
    /// started by the listener on the Redis client's thread: the handler starts in the same wake-up that delivered it.
    func start(_ job: LeasedJob, immediately: Bool = false) {
        let soft = ContinuousClock.now + .milliseconds(max(1, job.options.timeoutMs))
        state.withLock {
            $0.running[job.id] = Running(queue: job.queue, token: job.token, softDeadline: soft, hardDeadline: soft + options.hardTimeoutGrace)
        }
        let run = JobExecution(worker: self, job: job, deadline: soft)
        let task = immediately ? Task.immediate { await run.run() } : Task { await run.run() }
        // This run's entry only: by now an immediate task may have finished and the job may run here again.
        state.withLock { if $0.running[job.id]?.token == job.token { $0.running[job.id]?.task = task } }
    }

    func requeue(_ job: LeasedJob, delay: Duration = .zero) async throws {
        let keys = QueueKeys(queue: job.queue)
        try await redis.evaluate(
            QueueScripts.requeue, keys: [.string(keys.active), .string(keys.ready), .string(keys.scheduled), .string(keys.doorbell)],
            arguments: [.string(keys.prefix), .string(job.id), .string(job.token), .int(delay.milliseconds), .string(options.workerID)])
    }

    // MARK: - Heartbeat and shutdown

    private func heartbeatLoop() async {
        while !state.withLock({ $0.stopping && $0.running.isEmpty }) {
            try? await Task.sleep(for: options.heartbeatInterval)
            await heartbeat()
            if !state.withLock({ $0.stopping }) { await sweepOutboxes() }
        }
    }

    /// Extends the leases of running jobs (cancelling those whose lease was lost) and publishes the process record.
    func heartbeat() async {
        let running = state.withLock { $0.running.map { (id: $0.key, queue: $0.value.queue, token: $0.value.token) } }
        metrics.setRunning(running.count)
        for queue in Set(running.map(\.queue)) {
            let keys = QueueKeys(queue: queue)
            let mine = running.filter { $0.queue == queue }
            do {
                let reply = try await redis.evaluate(
                    QueueScripts.extend, keys: [.string(keys.active)],
                    arguments: [.int(options.leaseDuration.milliseconds), .string(options.workerID)]
                        + mine.flatMap { [.string($0.id), .string($0.token)] })
                markLost((reply.array ?? []).compactMap(\.string), checked: Dictionary(mine.map { ($0.id, $0.token) }) { _, last in last })
            } catch {
                logger.info("heartbeat failed; leases lapse if Redis stays unreachable", metadata: ["error": "\(error)"])
            }
        }
        await extendHolds()
        let record: [RedisArgument] = [
            "HSET", .string(QueueKeys.worker(options.workerID)), "pid", .int(getpid()), "queues", .string(options.queues.joined(separator: ",")),
            "concurrency", .int(options.concurrency), "busy", .int(running.count), "beat_ms", .int(nowMilliseconds()),
            "jobs", .string(running.map(\.id).joined(separator: ",")),
        ]
        _ = try? await redis.pipeline([
            record, ["PEXPIRE", .string(QueueKeys.worker(options.workerID)), .int(options.heartbeatInterval.milliseconds * 5)],
            ["ZADD", .string(QueueKeys.workers), .int(nowMilliseconds()), .string(options.workerID)],
            // Workers silent for an hour (SIGKILLed, host gone) leave the registry; until then ops see them as dead.
            ["ZREMRANGEBYSCORE", .string(QueueKeys.workers), "-inf", .int(nowMilliseconds() - 3_600_000)],
        ])
    }

    /// Cancels the runs whose lease `extend` found gone. Only the run whose lease was checked (`checked`: id → token):
    /// the job may have finished meanwhile, its lease gone with it, and already run again here under a new token.
    func markLost(_ ids: [String], checked: [String: String]) {
        for id in ids {
            let task = state.withLock { s -> Task<Void, Never>? in
                guard let token = checked[id], s.running[id]?.token == token else { return nil }
                s.running[id]?.lost = true
                return s.running[id]?.task
            }
            task?.cancel()
        }
    }

    private func removeHeartbeat() async {
        _ = try? await redis.pipeline([
            ["DEL", .string(QueueKeys.worker(options.workerID))], ["ZREM", .string(QueueKeys.workers), .string(options.workerID)],
        ])
    }

    /// Every 100 ms: cancels handlers past their soft timeout, and reports those past their hard timeout.
    /// One timer for the process instead of one per job.
    private func watchdogLoop() async {
        while !state.withLock({ $0.stopping && $0.running.isEmpty }) {
            try? await Task.sleep(for: .milliseconds(100))
            let now = ContinuousClock.now
            let (overdue, stuck) = state.withLock { s -> ([Task<Void, Never>], [String]) in
                var overdue: [Task<Void, Never>] = []
                var stuck: [String] = []
                for (id, job) in s.running {
                    if job.hardDeadline < now { stuck.append(id) }
                    if job.softDeadline < now && !job.timedOut, let task = job.task {
                        s.running[id]?.timedOut = true
                        overdue.append(task)
                    }
                }
                return (overdue, stuck)
            }
            for task in overdue { task.cancel() }
            for id in stuck {
                logger.info("job ran past its hard timeout", metadata: ["job.id": "\(id)"])
                options.onHardTimeout(id)
            }
        }
    }

    /// Waits up to the grace period for running jobs, then cancels the rest, hands them back, and waits for that.
    private func drain() async {
        let clock = ContinuousClock()
        let deadline = clock.now + options.gracePeriod
        while runningCount > 0 && clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let left = state.withLock { s -> [Task<Void, Never>] in
            s.handingBack = true
            return s.running.values.compactMap(\.task)
        }
        if !left.isEmpty { logger.info("grace period over; handing back running jobs", metadata: ["count": "\(left.count)"]) }
        for task in left { task.cancel() }
        for task in left { await task.value }
    }
}
