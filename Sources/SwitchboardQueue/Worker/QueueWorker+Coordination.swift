import Synchronization
import Logging
import SwitchboardRedis

/// Jobs under a rate limit (``JobParameters/rateLimit``), a per-key concurrency limit
/// (``JobParameters/concurrencyLimit``) or a lock (``JobParameters/lockKey``). The rate limit is checked first, then
/// the concurrency slot and the lock are taken for one lease each, extended with the heartbeat and released when the
/// job's outcome is recorded. A job over its limit is put back (scheduled) until the limiter admits it; one whose
/// key is full or lock busy waits on the key's wait list and is woken by the release (``WorkerOptions/waitForKeys``);
/// neither uses an attempt.
extension QueueWorker {
    /// Something a running job holds besides its lease, extended with it.
    enum Hold: Sendable {
        case lock(key: String, owner: String)
        case slot(ConcurrencyLimit, owner: String)
    }

    /// Admits the job under its rate limit, or puts it back until it may run. Nil when it was put back.
    func admit(_ limit: RateLimit, for job: LeasedJob) async -> Result<Int64, any Error>? {
        do {
            let (admitted, wait) = try await limit.admit(on: redis)
            if let admitted { return .success(admitted) }
            await putBack(job, after: wait + .milliseconds(1), outcome: "rate_limited")
            return nil
        } catch {
            return .failure(error)
        }
    }

    /// Takes the job's concurrency slot, then its lock, each for one lease. Returns the lock's fencing number (nil
    /// without a lock), or nil when the key was full or the lock busy: then whatever it took is given back and the
    /// job waits for the key (``wait(_:outcome:)``), attempt unchanged. An error leaves what was taken to ``releaseHolds(of:)``.
    func takeHolds(for job: LeasedJob) async -> Result<Int64?, any Error>? {
        let owner = "\(options.workerID):\(job.id):\(job.token)"
        let waiter = options.waitForKeys ? "\(job.queue)|\(job.id)" : ""
        do {
            if let limit = job.options.concurrency {
                guard try await limit.acquire(owner: owner, ttl: options.leaseDuration, waiter: waiter, on: redis) else {
                    await wait(job, outcome: "concurrency_full")
                    return nil
                }
                note(.slot(limit, owner: owner), for: job)
            }
            guard let key = job.options.lock else { return .success(nil) }
            let lock = try DistributedLock(redis: redis, key: key)
            guard let fence = try await lock.acquire(owner: owner, ttl: options.leaseDuration, waiter: waiter) else {
                await release(removeHolds(of: job))
                await wait(job, outcome: "lock_busy")
                return nil
            }
            note(.lock(key: key, owner: owner), for: job)
            return .success(fence)
        } catch {
            return .failure(error)
        }
    }

    private var busyPause: Duration { .milliseconds(Int64.random(in: 200...400)) }

    /// A job whose key is busy: parked until the holder's release wakes it (``WorkerOptions/waitForKeys``), else put
    /// back 200–400 ms out.
    private func wait(_ job: LeasedJob, outcome: String) async {
        guard options.waitForKeys else { return await putBack(job, after: busyPause, outcome: outcome) }
        let safety = options.keyWaitSafety + .milliseconds(Int64.random(in: 0...500))
        await giveBack(job, outcome: outcome) {
            let k = QueueKeys(queue: job.queue)
            _ = try await self.redis.evaluate(
                QueueScripts.park, keys: [.string(k.active), .string(k.ready), .string(k.scheduled), .string(k.doorbell)],
                arguments: [.string(k.prefix), .string(job.id), .string(job.token), .string(self.options.workerID), .int(safety.milliseconds)])
        }
    }

    /// Makes the jobs listed on a released key's wait list (`<queue>|<job id>`) ready again, one call per queue.
    func wake(_ waiters: [String]) async {
        var byQueue: [String: [String]] = [:]
        for waiter in waiters {
            guard let bar = waiter.lastIndex(of: "|") else { continue }
            byQueue[String(waiter[..<bar]), default: []].append(String(waiter[waiter.index(after: bar)...]))
        }
        for (queue, ids) in byQueue {
            let k = QueueKeys(queue: queue)
            _ = try? await redis.evaluate(
                QueueScripts.wake, keys: [.string(k.scheduled), .string(k.ready), .string(k.doorbell)],
                arguments: [.string(k.prefix)] + ids.map { .string($0) })
        }
    }

    private func note(_ hold: Hold, for job: LeasedJob) {
        state.withLock { s in if s.running[job.id]?.token == job.token { s.running[job.id]?.holds.append(hold) } }
    }

    /// Takes this run's holds out of the running table (so the heartbeat stops extending them).
    func removeHolds(of job: LeasedJob) -> [Hold] {
        state.withLock { s in
            guard s.running[job.id]?.token == job.token, let holds = s.running[job.id]?.holds else { return [] }
            s.running[job.id]?.holds = []
            return holds
        }
    }

    /// Gives the holds back and wakes the jobs waiting for them. A release that fails leaves the hold to lapse with
    /// its TTL (one lease), and its waiters to their safety timer.
    func release(_ holds: [Hold]) async {
        for hold in holds {
            let waiters: [String]?
            switch hold {
            case .lock(let key, let owner): waiters = try? await DistributedLock(redis: redis, key: key).releaseAndWake(owner: owner)
            case .slot(let limit, let owner): waiters = try? await limit.releaseAndWake(owner: owner, on: redis)
            }
            if let waiters, !waiters.isEmpty { await wake(waiters) }
        }
    }

    /// Releases the job's holds in the background (from a `defer`).
    func releaseHolds(of job: LeasedJob) {
        guard job.options.lock != nil || job.options.concurrency != nil else { return }
        let holds = removeHolds(of: job)
        if !holds.isEmpty { Task { await self.release(holds) } }
    }

    /// Frees the job's slot and schedules it `delay` out with its attempt restored.
    func putBack(_ job: LeasedJob, after delay: Duration, outcome: String) async {
        await giveBack(job, outcome: outcome) { try await self.requeue(job, delay: delay) }
    }

    /// Frees the job's slot and hands it back to the queue with `handBack`, its attempt restored.
    private func giveBack(_ job: LeasedJob, outcome: String, _ handBack: @escaping @Sendable () async throws -> Void) async {
        state.withLock { s in
            s.handlersRunning -= 1
            // No longer running here: the heartbeat must not extend (or mark lost) a lease this run gave up.
            if s.running[job.id]?.token == job.token { s.running[job.id] = nil }
        }
        slotFreedContinuation.yield()
        await Task {
            do {
                try await handBack()
                self.metrics.finished(queue: job.queue, name: job.name, outcome: outcome)
            } catch {
                self.logger.info("could not put a job back; its lease will lapse", metadata: ["job.id": "\(job.id)", "reason": "\(outcome)"])
            }
        }.value
    }

    /// Called by the heartbeat: locks and slots held by running jobs last as long as their leases; one found lost
    /// cancels its job, as a lost lease does.
    func extendHolds() async {
        let held = state.withLock { $0.running.flatMap { id, r in r.holds.map { (id: id, hold: $0) } } }
        for (id, hold) in held {
            let kept: Bool?
            switch hold {
            case .lock(let key, let owner):
                kept = try? await DistributedLock(redis: redis, key: key).extend(owner: owner, ttl: options.leaseDuration)
            case .slot(let limit, let owner):
                kept = try? await limit.extend(owner: owner, ttl: options.leaseDuration, on: redis)
            }
            guard kept == false else { continue }  // nil: Redis unreachable; the lease check decides
            logger.warning("a job's lock or concurrency slot was lost; cancelling it", metadata: ["job.id": "\(id)"])
            let task = state.withLock { s -> Task<Void, Never>? in
                s.running[id]?.lost = true
                return s.running[id]?.task
            }
            task?.cancel()
        }
    }
}
