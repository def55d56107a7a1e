import FoundationEssentials
import Logging
import SwitchboardRedis
import Synchronization

/// One run of one leased job in a ``QueueWorker``: admission under its rate limit, its lock and concurrency slot,
/// the handler (inside the registry's middleware), and the outcome recorded in Redis — completed with its successors
/// (and a join member's arrival), failed with a retry or into the dead set, or handed back at shutdown.
struct JobExecution: Sendable {
    let worker: QueueWorker
    let job: LeasedJob
    /// When the soft timeout cancels the handler (the watchdog's deadline for this run).
    let deadline: ContinuousClock.Instant

    func run() async {
        defer {
            worker.state.withLock {
                // Only this run's entry: a job put back (busy lock, rate limit) may already run again here.
                if $0.running[job.id]?.token == job.token { $0.running[job.id] = nil }
                $0.processed += 1
            }
            worker.slotFreedContinuation.yield()
        }
        let jobLogger = JobLogger(base: worker.logger, id: job.id, name: job.name, attempt: job.attempt, queue: job.queue)
        var context = JobContext(
            id: job.id, name: job.name, queue: job.queue, attempt: job.attempt, maxAttempts: job.maxAttempts,
            fencingToken: Int64(job.token) ?? 0, lazyLogger: jobLogger, collectedJSON: job.collected)
        context.deadline = deadline
        context.readyAtMs = job.readyAtMs
        var failure: (any Error)?
        if worker.state.withLock({ $0.handingBack }) { withUnsafeCurrentTask { $0?.cancel() } }
        if failure == nil, let limit = job.options.rate {
            switch await worker.admit(limit, for: job) {
            case .success(let at)?: context.rateAdmittedAtMicros = at
            case .failure(let error)?: failure = error
            case nil: return  // put back until the limit allows it, attempt unchanged
            }
        }
        defer { worker.releaseHolds(of: job) }
        if failure == nil {
            switch await worker.takeHolds(for: job) {
            case .success(let fence)?:
                context.lockFence = fence
                if fence != nil { context.lockKey = job.options.lock }
            case .failure(let error)?: failure = error
            case nil: return  // put back for a moment, attempt unchanged
            }
        }
        worker.metrics.pickedUp(queue: job.queue, afterMilliseconds: nowMilliseconds() - job.readyAtMs)
        do {
            if let failure { throw failure }
            guard let runner = worker.registry.runner(for: job.name) else {
                throw QueueError(
                    .unknownJob, "no handler for \"\(job.name)\" in this worker (it runs: \(worker.registry.jobNames.joined(separator: ", ")))")
            }
            try await runner(job.payload, context)
        } catch {
            failure = error
        }

        let (lost, handingBack, timedOut) = worker.state.withLock { s in
            s.handlersRunning -= 1
            return (s.running[job.id]?.lost ?? false, s.handingBack, s.running[job.id]?.timedOut ?? false)
        }
        worker.slotFreedContinuation.yield()
        if lost {
            jobLogger.logger.info("lease lost while running; another worker may run the job, so this result is dropped")
            worker.metrics.finished(queue: job.queue, name: job.name, outcome: "lost")
            return
        }
        // The job's task may be cancelled (timeout, drain), and recording the outcome must not be cut short. It runs
        // here all the same: nothing it awaits observes cancellation (the completion batcher's continuation, Redis
        // calls once submitted), which spares a second task per job (see docs/benchmarks.md).
        var successors = context.successors.all
        if failure == nil, let join = job.options.join { successors.append(job.arrival(join, result: context.successors.result)) }
        await record(job, failure: failure, successors: successors, handingBack: handingBack, timedOut: timedOut, logger: jobLogger)
    }

    private func record(
        _ job: LeasedJob, failure: (any Error)?, successors: [Successor], handingBack: Bool, timedOut: Bool, logger jobLogger: JobLogger
    ) async {
        do {
            if handingBack && !timedOut {
                try await worker.requeue(job)
                jobLogger.logger.info("handed back to ready at shutdown")
                worker.metrics.finished(queue: job.queue, name: job.name, outcome: "handed_back")
            } else if let later = failure as? RetryLater, !timedOut {
                // Waiting is not failing: back to scheduled for `delay`, the attempt restored.
                try await worker.requeue(job, delay: later.delay)
                jobLogger.logger.info("rescheduled", metadata: ["retry.in": "\(later.delay)", "reason": "\(later.reason)"])
                worker.metrics.finished(queue: job.queue, name: job.name, outcome: "retry_later")
            } else if let failure {
                let reason =
                    timedOut
                    ? QueueError(.timedOut, "the handler ran past its timeout of \(Duration.milliseconds(job.options.timeoutMs)) and was cancelled")
                    : failure
                let outcome = try await fail(job, error: reason)
                jobLogger.logger.info("failed", metadata: ["error": "\(describe(reason))", "outcome": "\(outcome)"])
                worker.metrics.finished(queue: job.queue, name: job.name, outcome: outcome == "retry" || outcome == "dead" ? outcome : "stale")
            } else {
                worker.options.testFault?.hit(.beforeComplete)
                try await complete(job, successors: successors)
                if jobLogger.emits(.debug) { jobLogger.logger.debug("completed") }
            }
        } catch {
            // Redis unreachable while finishing: the lease lapses and the job runs again (at-least-once).
            jobLogger.logger.info("could not record the outcome; the lease will lapse and the job will run again", metadata: ["error": "\(error)"])
        }
    }

    private func complete(_ job: LeasedJob, successors: [Successor]) async throws {
        if try await worker.completions.complete(job, successors: successors) {
            worker.metrics.finished(queue: job.queue, name: job.name, outcome: "completed")
            let elsewhere = successors.filter { $0.queue != job.queue }
            if !elsewhere.isEmpty {
                worker.options.testFault?.hit(.afterComplete)
                await worker.relay(elsewhere, from: job.queue)
            }
        } else {
            worker.logger.info("completion refused: the lease was taken over", metadata: ["job.id": "\(job.id)"])
            worker.metrics.finished(queue: job.queue, name: job.name, outcome: "stale")
        }
    }

    private func fail(_ job: LeasedJob, error: any Error) async throws -> String {
        let keys = QueueKeys(queue: job.queue)
        var delay: Int64 = -1
        if !(error is DoNotRetry) && job.attempt < job.maxAttempts {
            var generator = SystemRandomNumberGenerator()
            delay = job.options.retry.delay(afterAttempt: job.attempt, using: &generator).milliseconds
        }
        let reply = try await worker.redis.evaluate(
            QueueScripts.fail, keys: [.string(keys.active), .string(keys.retry), .string(keys.dead)],
            arguments: [
                .string(keys.prefix), .string(job.id), .string(job.token), .string(String(describe(error).prefix(500))),
                .int(delay), .string(utcDay()), .int(worker.options.deadRetention.count), .int(worker.options.deadRetention.age.milliseconds),
                .string(worker.options.workerID),
            ])
        return reply.string ?? "refused (stale token)"
    }
}

private func describe(_ error: any Error) -> String {
    if let error = error as? DoNotRetry { return "do not retry: \(error.message)" }
    return "\(error)"
}
