public import ServiceLifecycle
public import SwitchboardRedis
import Synchronization

/// Group commit for enqueues from many concurrent callers (the webhook receiver's requests): whatever arrives while
/// one round trip is in flight goes out together in the next, as one pipeline. Each caller waits for its own jobs
/// only, at most its timeout; a caller that times out is told so at once, and its jobs may still land later (which
/// is why callers that retry give their jobs unique keys).
public final class EnqueueBatcher: Service, Sendable {
    public let queue: JobQueue
    /// Jobs sent in one round trip at most. Default 2,000.
    public let maxJobsPerTrip: Int
    /// Round trips in flight at once (each on its own connection), so Redis works on one batch while the replies
    /// of another are read. Default 2.
    public let maxInFlight: Int

    private struct Waiter {
        let jobs: [JobQueue.NewJob]
        let before: [[RedisArgument]]
        let deadline: ContinuousClock.Instant
        let reply: ResumeOnce<Result<[String], any Error>?>
    }

    private struct State {
        var pending: [Waiter] = []
        var waiting: [ObjectIdentifier: Waiter] = [:]
        var inFlight = 0
        var stopped = false
    }

    private let state = Mutex(State())
    private let wake: AsyncStream<Void>
    private let wakeContinuation: AsyncStream<Void>.Continuation

    public init(queue: JobQueue, maxJobsPerTrip: Int = 2000, maxInFlight: Int = 2) {
        self.queue = queue
        self.maxJobsPerTrip = maxJobsPerTrip
        self.maxInFlight = maxInFlight
        (wake, wakeContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Enqueues `jobs` with the next round trip, `before` (the caller's own writes, such as intake marks) running ahead
    /// of every job of that trip. Returns their ids, the error Redis gave, or nil when `timeout` passed first.
    public func submit(_ jobs: [JobQueue.NewJob], before: [[RedisArgument]] = [], timeout: Duration) async -> Result<[String], any Error>? {
        await withCheckedContinuation { continuation in
            let reply = ResumeOnce<Result<[String], any Error>?>(continuation)
            let accepted = state.withLock { s -> Bool in
                guard !s.stopped else { return false }
                let waiter = Waiter(jobs: jobs, before: before, deadline: .now + timeout, reply: reply)
                s.pending.append(waiter)
                s.waiting[ObjectIdentifier(reply)] = waiter
                return true
            }
            if accepted {
                wakeContinuation.yield()
            } else {
                reply.resume(.failure(QueueError(.invalidOptions, "the enqueue batcher has stopped")))
            }
        }
    }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.expireLoop() }
            await cancelWhenGracefulShutdown {
                await withDiscardingTaskGroup { senders in
                    for await _ in self.wake {
                        while let batch = self.nextBatch(reservingSlot: true) {
                            senders.addTask {
                                await self.send(batch)
                                self.state.withLock { $0.inFlight -= 1 }
                                self.wakeContinuation.yield()  // a slot is free: send what gathered meanwhile
                            }
                        }
                    }
                }
            }
            // Shutting down: answer what is still queued (the HTTP server has stopped taking requests by now).
            while let batch = self.nextBatch(reservingSlot: false) { await self.send(batch) }
            self.state.withLock { $0.stopped = true }
            self.wakeContinuation.finish()
        }
    }

    /// Takes waiters from the front until the trip is full (a single oversized request goes alone); with
    /// `reservingSlot`, only when fewer than ``maxInFlight`` trips are out, and counts this one.
    private func nextBatch(reservingSlot: Bool) -> [Waiter]? {
        state.withLock { s -> [Waiter]? in
            guard !s.pending.isEmpty, !reservingSlot || s.inFlight < maxInFlight else { return nil }
            var count = 0
            var taken = 0
            while taken < s.pending.count, taken == 0 || count + s.pending[taken].jobs.count <= maxJobsPerTrip {
                count += s.pending[taken].jobs.count
                taken += 1
            }
            let batch = Array(s.pending.prefix(taken))
            s.pending.removeFirst(taken)
            if reservingSlot { s.inFlight += 1 }
            return batch
        }
    }

    private func send(_ batch: [Waiter]) async {
        let result: Result<[String], any Error>
        do {
            result = .success(try await queue.enqueue(jobs: batch.flatMap(\.jobs), after: batch.flatMap(\.before)))
        } catch {
            result = .failure(error)
        }
        var offset = 0
        for waiter in batch {
            let n = waiter.jobs.count
            switch result {
            case .success(let ids): waiter.reply.resume(.success(Array(ids[offset..<offset + n])))
            case .failure(let error): waiter.reply.resume(.failure(error))
            }
            offset += n
            _ = state.withLock { $0.waiting.removeValue(forKey: ObjectIdentifier(waiter.reply)) }
        }
    }

    /// Every 50 ms, tells callers past their timeout (their jobs stay queued for the next trip). Ends when the batcher
    /// stops, or when its task is cancelled (the sleep would otherwise return at once, and the loop would spin).
    private func expireLoop() async {
        while !state.withLock({ $0.stopped }) && !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(50))
            let now = ContinuousClock.now
            let overdue = state.withLock { s -> [Waiter] in
                let late = s.waiting.values.filter { $0.deadline <= now }
                for w in late { s.waiting.removeValue(forKey: ObjectIdentifier(w.reply)) }
                return late
            }
            for waiter in overdue { waiter.reply.resume(nil) }
        }
    }
}

/// Resumes a continuation with the first value offered; later ones are ignored.
public final class ResumeOnce<T: Sendable>: Sendable {
    private let state: Mutex<CheckedContinuation<T, Never>?>
    public init(_ continuation: CheckedContinuation<T, Never>) { state = Mutex(continuation) }
    public func resume(_ value: T) {
        let continuation = state.withLock { c in
            defer { c = nil }
            return c
        }
        continuation?.resume(returning: value)
    }
}
