import Logging
import SwitchboardRedis
import SwitchboardJSON

/// Successors (``JobContext/enqueueOnSuccess(_:options:)``) for other queues: `complete.lua` leaves them in the
/// parent queue's outbox with the completion; the completing worker relays them to their queue (`relay.lua`, exactly
/// once per successor) and acknowledges them (`outbox.lua`). Every heartbeat, each worker sweeps the outboxes of
/// its queues for entries older than ``WorkerOptions/relayGrace`` — successors whose worker died before it could
/// relay or acknowledge them — and relays those.
extension QueueWorker {
    /// Relays `successors` (specs from one parent queue's outbox) to their queues, then acknowledges them. A failure
    /// leaves them in the outbox for a sweep.
    func relay(_ successors: [Successor], from parentQueue: String) async {
        var relayed: [String] = []
        for (queue, group) in Dictionary(grouping: successors, by: \.queue) {
            let keys = QueueKeys(queue: queue)
            do {
                try await JobQueue(redis: redis).register(queue: queue)
                _ = try await redis.evaluate(
                    QueueScripts.relay, keys: [.string(keys.ready), .string(keys.scheduled), .string(keys.doorbell)],
                    arguments: [.string(keys.prefix), .string(queue), .int(options.relayRecordTTL.milliseconds)] + group.map { .bytes($0.spec) })
                relayed += group.map(\.id)
            } catch {
                logger.info("relaying successors failed; a sweep will relay them", metadata: ["queue": "\(queue)", "error": "\(error)"])
            }
        }
        guard !relayed.isEmpty else { return }
        options.testFault?.hit(.afterRelay)
        let parent = QueueKeys(queue: parentQueue)
        _ = try? await redis.evaluate(
            QueueScripts.outbox, keys: [.string(parent.outbox), .string(parent.outboxDue)], arguments: ["ack"] + relayed.map { .string($0) })
    }

    /// Relays what is due in the outboxes of this worker's queues (claimed for 30 s, so sweeps of several workers
    /// do not repeat each other's work), 100 at a time, up to 1,000 per queue per heartbeat.
    func sweepOutboxes() async {
        for queue in options.queues {
            var pages = 0
            while pages < 10, await sweepOutbox(queue) == 100 { pages += 1 }
        }
    }

    /// One page of one queue's outbox; returns how many entries it claimed.
    private func sweepOutbox(_ queue: String) async -> Int {
        let keys = QueueKeys(queue: queue)
        guard
            let reply = try? await redis.evaluate(
                QueueScripts.outbox, keys: [.string(keys.outbox), .string(keys.outboxDue)], arguments: ["claim", 100, 30_000]),
            let items = reply.array, !items.isEmpty
        else { return 0 }
        var due: [Successor] = []
        for pair in stride(from: 0, to: items.count - 1, by: 2) {
            guard let id = items[pair].string, let spec = items[pair + 1].bytes,
                let target = (try? JSONValue.parse(spec))?["queue"]?.string
            else { continue }
            due.append(Successor(id: id, queue: target, spec: spec))
        }
        logger.info("relaying successors left in an outbox", metadata: ["queue": "\(queue)", "count": "\(due.count)"])
        await relay(due, from: queue)
        return items.count / 2
    }
}
