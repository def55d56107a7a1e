import Logging
import SwitchboardRedis
import Synchronization

/// The listeners that block on Redis for a worker: one per queue on its doorbell, or, for a worker on one queue,
/// the direct-handoff listener.
///
/// Direct handoff, for a worker on one queue. The listener keeps one job slot reserved and registers it in the
/// queue's waiters (`take` with `waiting`, renewed every second); an enqueue then leases its job straight to a
/// waiter and pushes it onto the waiter's inbox (`hand_off` in prelude.lua), which the listener is blocked on
/// together with the doorbell. The job arrives in the reply that wakes the worker: one round trip fewer between
/// enqueue and handler than doorbell → `take`. A job handed off while the listener was busy waits in the inbox and
/// comes first in its next `take`; at shutdown `unwait.lua` unregisters and gives back what is in the inbox.
extension QueueWorker {
    /// Blocks on one queue's doorbell (1 s at a time, one key per BLPOP so it works on Redis Cluster). When a token
    /// arrives it leases jobs for the free slots at once, on the same connection and thread (the shortest path from
    /// an enqueue to a running job), and rings the in-process bell when it could not take them itself. Timing never
    /// depends on Redis's BLPOP timeout precision (a 100 ms tick): due times are kept by the fetch loop's timer.
    func doorbellListener(queue: String) async {
        if options.queues.count == 1 && options.directHandoff { return await handoffListener(queue: queue) }
        let doorbell = RedisArgument.string(QueueKeys(queue: queue).doorbell)
        var failures = 0
        while !state.withLock({ $0.stopping }) {
            do {
                let (rang, jobs) = try await redis.withConnection { connection -> (Bool, [LeasedJob]) in
                    let reply = try connection.blockingCommand(["BLPOP", doorbell, "1"], timeout: .seconds(1))
                    if reply.isNull { return (false, []) }
                    // With several queues, only the fetch loop leases, so weights and priorities decide; the listener
                    // just wakes it. With one queue it leases at once: the shortest path from enqueue to handler.
                    if self.state.withLock({ $0.stopping }) || self.options.queues.count > 1 { return (true, []) }
                    let free = self.reserveSlots()
                    if free == 0 { return (true, []) }
                    do {
                        let jobs = try self.take(queue: queue, count: free, on: connection).1
                        self.releaseSlots(free - jobs.count)
                        return (true, jobs)
                    } catch {
                        self.releaseSlots(free)
                        throw error
                    }
                }
                failures = 0
                for job in jobs { start(job) }
                if rang && jobs.isEmpty { bell.ring() }
            } catch {
                failures += 1
                try? await Task.sleep(for: .milliseconds(min(5_000, 100 << min(failures, 6))))
            }
        }
    }

    func handoffListener(queue: String) async {
        let keys = QueueKeys(queue: queue)
        let inbox = keys.inbox(options.workerID)
        var holding = false  // one slot reserved for the registration
        var failures = 0
        while !state.withLock({ $0.stopping }) {
            do {
                // Reserved here, not in the closure: if the closure throws, the slot is still known to be held.
                if !holding { holding = reserveSlots(max: 1) == 1 }
                let held = holding
                let step = try await redis.withConnection { try self.handoffStep(queue: queue, keys: keys, inbox: inbox, holding: held, on: $0) }
                holding = step.holding
                failures = 0
                for job in step.giveBack {
                    try? await requeue(job)  // too late to start: back to ready, attempt restored
                    releaseSlots(1)
                }
                if step.wakeFetchLoop { bell.ring() }
            } catch {
                failures += 1
                try? await Task.sleep(for: .milliseconds(min(5_000, 100 << min(failures, 6))))
            }
        }
        guard holding else { return }
        do {
            let back = try await redis.evaluate(
                QueueScripts.unwait,
                keys: [.string(keys.waiters), .string(inbox), .string(keys.active), .string(keys.ready), .string(keys.doorbell)],
                arguments: [.string(keys.prefix), .string("\(options.leaseDuration.milliseconds)|\(options.workerID)")])
            if let n = back.int, n > 0 { logger.info("gave back jobs handed off during shutdown", metadata: ["count": "\(n)"]) }
        } catch {
            logger.info("could not unregister from handoffs; jobs handed off now wait for their lease to lapse", metadata: ["error": "\(error)"])
        }
        releaseSlots(1)
    }

    struct HandoffStep {
        var wakeFetchLoop = false
        /// Jobs leased while the worker began stopping: to give back.
        var giveBack: [LeasedJob] = []
        var holding: Bool
    }

    /// One round on the Redis client's thread: take (registering as a waiter when nothing is ready), then block on
    /// the inbox and the doorbell. Jobs are started from this thread, so their tasks are scheduled without waiting
    /// for the listener's own task to resume.
    private func handoffStep(queue: String, keys: QueueKeys, inbox: String, holding: Bool, on connection: RedisConnection) throws -> HandoffStep {
        guard holding else {
            // Every slot is busy: only wake the fetch loop when work arrives.
            let reply = try connection.blockingCommand(["BLPOP", .string(keys.doorbell), "1"], timeout: .seconds(1))
            return HandoffStep(wakeFetchLoop: !reply.isNull, holding: false)
        }
        let extra = reserveSlots()
        let (waitMs, jobs): (Int64, [LeasedJob])
        do {
            (waitMs, jobs) = try take(queue: queue, count: 1 + extra, waiting: true, on: connection)
        } catch {
            releaseSlots(extra)
            throw error
        }
        if !jobs.isEmpty {
            releaseSlots(1 + extra - jobs.count)
            return HandoffStep(giveBack: startUnlessStopping(jobs), holding: false)
        }
        releaseSlots(extra)
        // Back by the next due time (a scheduled job, a retry, a lease deadline) when this slot is the only free one;
        // Redis's own timeout tick is 100 ms, the fetch loop's timer is finer when it has slots.
        let block = waitMs >= 0 ? min(1000, max(10, waitMs)) : 1000
        let reply = try connection.blockingCommand(
            ["BLPOP", .string(inbox), .string(keys.doorbell), .string(String(Double(block) / 1000))], timeout: .milliseconds(block))
        guard let pair = reply.array, pair.count == 2, let key = pair[0].string, let value = pair[1].bytes else {
            return HandoffStep(holding: true)  // timed out: the next take renews the registration
        }
        // The doorbell: the next take leases at once. It also announces scheduled jobs, whose due time the fetch
        // loop's take learns.
        guard key == inbox else { return HandoffStep(wakeFetchLoop: true, holding: true) }
        let job = try LeasedJob.parseHandoff(value, queue: queue)
        return HandoffStep(giveBack: startUnlessStopping([job], immediately: true), holding: false)
    }

    private func startUnlessStopping(_ jobs: [LeasedJob], immediately: Bool = false) -> [LeasedJob] {
        if state.withLock({ $0.stopping }) { return jobs }
        for job in jobs { start(job, immediately: immediately) }
        return []
    }
}
