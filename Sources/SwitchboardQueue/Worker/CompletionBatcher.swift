import SwitchboardRedis
import Synchronization

/// Sends completions to Redis in batches without adding latency: when no flush is in flight a completion goes out
/// at once; completions that arrive meanwhile wait for the flush in flight and then go together, one `complete`
/// call per queue. Each caller learns whether its own job was completed or refused as stale. A job's successors
/// (chains) go in the same call, so they are stored atomically with its completion.
final class CompletionBatcher: Sendable {
    typealias Waiter = CheckedContinuation<Bool, any Error>
    private struct Pending {
        let job: LeasedJob
        /// '' or a JSON array of successor specs, stored with the completion.
        let successors: [UInt8]
        let waiter: Waiter
    }

    private let redis: RedisClient
    private let retention: Retention
    private let relayGrace: Duration
    /// The worker whose leases these completions finish.
    private let workerID: String
    private let state = Mutex<(pending: [Pending], closed: Bool)>(([], false))
    private let wake: AsyncStream<Void>
    private let wakeContinuation: AsyncStream<Void>.Continuation

    init(redis: RedisClient, workerID: String, retention: Retention, relayGrace: Duration) {
        self.redis = redis
        self.workerID = workerID
        self.retention = retention
        self.relayGrace = relayGrace
        (wake, wakeContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Completes `job`, storing its successors in the same step; returns false when Redis refused it as stale.
    func complete(_ job: LeasedJob, successors: [Successor]) async throws -> Bool {
        var blob: [UInt8] = []
        if !successors.isEmpty {
            blob = [UInt8(ascii: "[")] + Array(successors.map(\.spec).joined(separator: [UInt8(ascii: ",")])) + [UInt8(ascii: "]")]
        }
        return try await withCheckedThrowingContinuation { (waiter: Waiter) in
            let accepted = state.withLock { s -> Bool in
                if s.closed { return false }
                s.pending.append(Pending(job: job, successors: blob, waiter: waiter))
                return true
            }
            if accepted {
                wakeContinuation.yield()
            } else {
                waiter.resume(throwing: QueueError(.unexpectedReply, "the worker is stopping; the completion was not sent"))
            }
        }
    }

    /// Runs until ``close()`` and everything pending is flushed.
    func run() async {
        for await _ in wake {
            while true {
                let batch = state.withLock { s -> [Pending] in
                    let b = s.pending
                    s.pending = []
                    return b
                }
                if batch.isEmpty { break }
                await flush(batch)
            }
            if state.withLock({ $0.closed && $0.pending.isEmpty }) { return }
        }
    }

    /// Stops accepting completions; ``run()`` returns once the pending ones are sent.
    func close() {
        state.withLock { $0.closed = true }
        wakeContinuation.yield()
    }

    private func flush(_ batch: [Pending]) async {
        // Usually every job in a batch is from one queue: no grouping then.
        let first = batch[0].job.queue
        let groups = batch.allSatisfy { $0.job.queue == first } ? [first: batch] : Dictionary(grouping: batch, by: { $0.job.queue })
        for (queue, items) in groups {
            let keys = QueueKeys(queue: queue)
            for chunk in stride(from: 0, to: items.count, by: 256).map({ items[$0..<min($0 + 256, items.count)] }) {
                do {
                    let reply = try await redis.evaluate(
                        QueueScripts.complete, keys: [.string(keys.active), .string(keys.done)],
                        arguments: [
                            .string(keys.prefix), .string(utcDay()), .string(queue), .int(retention.count), .int(retention.age.milliseconds),
                            .int(relayGrace.milliseconds), .string(workerID),
                        ]
                            + chunk.flatMap {
                                [RedisArgument.string($0.job.id), .string($0.job.token), .bytes($0.successors), .string($0.job.uniqueMode)]
                            })
                    let results = reply.array ?? []
                    for (i, item) in chunk.enumerated() { item.waiter.resume(returning: results.indices.contains(i) && results[i].int == 1) }
                } catch {
                    for item in chunk { item.waiter.resume(throwing: error) }
                }
            }
        }
    }
}
