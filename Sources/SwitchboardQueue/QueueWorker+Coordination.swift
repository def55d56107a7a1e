import Synchronization
import Logging
import SwitchboardRedis

/// Jobs under a rate limit (``JobParameters/rateLimit``) or a lock (``JobParameters/lockKey``). The limit is checked
/// first, then the lock is taken for one lease, extended with the heartbeat and released when the handler returns.
/// A job over its limit, or whose lock is busy, is put back (scheduled) without using an attempt.
extension QueueWorker {
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

    /// Frees the job's slot and schedules it `delay` out with its attempt restored.
    func putBack(_ job: LeasedJob, after delay: Duration, outcome: String) async {
        state.withLock { s in
            s.handlersRunning -= 1
            // No longer running here: the heartbeat must not extend (or mark lost) a lease this run gave up.
            if s.running[job.id]?.token == job.token { s.running[job.id] = nil }
        }
        slotFreedContinuation.yield()
        await Task {
            do {
                try await self.requeue(job, delay: delay)
                self.metrics.finished(queue: job.queue, name: job.name, outcome: outcome)
            } catch {
                self.logger.info("could not put a job back; its lease will lapse", metadata: ["job.id": "\(job.id)", "reason": "\(outcome)"])
            }
        }.value
    }

    enum LockOutcome { case held(Int64), busy, failed(any Error) }

    /// Takes the job's lock for one lease; if another job holds it, hands this one back (scheduled 200–400 ms out,
    /// attempt unchanged). The heartbeat extends the lock with the lease.
    func takeLock(_ key: String, for job: LeasedJob) async -> LockOutcome {
        let owner = "\(options.workerID):\(job.id):\(job.token)"
        do {
            let lock = try DistributedLock(redis: redis, key: key)
            if let fence = try await lock.acquire(owner: owner, ttl: options.leaseDuration) {
                state.withLock { $0.running[job.id]?.lock = (key, owner) }
                return .held(fence)
            }
            await putBack(job, after: .milliseconds(Int64.random(in: 200...400)), outcome: "lock_busy")
            return .busy
        } catch {
            return .failed(error)
        }
    }

    func releaseLock(of job: LeasedJob) {
        guard let lock = state.withLock({ s in s.running[job.id]?.token == job.token ? s.running[job.id]?.lock : nil }) else { return }
        let redis = self.redis
        Task { _ = try? await DistributedLock(redis: redis, key: lock.key).release(owner: lock.owner) }
    }

    /// Called by the heartbeat: locks held by running jobs last as long as their leases; a lock found lost cancels
    /// its job, as a lost lease does.
    func extendLocks() async {
        let locked = state.withLock { $0.running.compactMap { id, r in r.lock.map { (id: id, key: $0.key, owner: $0.owner) } } }
        for held in locked {
            guard let lock = try? DistributedLock(redis: redis, key: held.key) else { continue }
            if (try? await lock.extend(owner: held.owner, ttl: options.leaseDuration)) == false {
                logger.warning("a job's lock was lost; cancelling it", metadata: ["job.id": "\(held.id)", "lock": "\(held.key)"])
                let task = state.withLock { s -> Task<Void, Never>? in
                    s.running[held.id]?.lost = true
                    return s.running[held.id]?.task
                }
                task?.cancel()
            }
        }
    }
}
