import Foundation
@testable import SwitchboardQueue
import SwitchboardRedis
import Testing

/// Direct handoff: an idle single-queue worker waits in `sb:{q}:waiters`, and an enqueue leases the job straight to it.
@Suite("Direct handoff", .serialized, .timeLimit(.minutes(2)))
struct HandoffTests {
    func handoffs(_ redis: RedisClient, _ queue: String) async throws -> Int64 {
        try await redis.command(["GET", .string(QueueKeys(queue: queue).prefix + "stats:handoffs")]).string.flatMap { Int64($0) } ?? 0
    }

    @Test func anIdleWorkerGetsEachJobInTheReplyThatWakesIt() async throws {
        let redis = try makeRedis()
        let queue = uniqueQueueName("handoff")
        let log = RunLog()
        let options = fastWorkerOptions(queue: queue)
        try await withWorker(redis: redis, options: options, register: { $0.register(Marker.self) { _, c in log.record(c) } }) { _ in
            let waiters = QueueKeys(queue: queue).waiters
            try await expectEventually {
                let members = try await redis.command(["ZRANGE", .string(waiters), 0, -1]).array?.compactMap(\.string) ?? []
                return members == ["\(options.leaseDuration.milliseconds)|\(options.workerID)"]
            }
            for i in 0..<20 {
                // Once the listener is registered again, the enqueue must hand the job to it.
                try await expectEventually { try await redis.command(["ZCARD", .string(waiters)]).int == 1 }
                try await JobQueue(redis: redis).enqueue(Marker(label: "\(i)"), options: .init(queue: queue))
                let target = i + 1
                try await expectEventually { log.count == target }
            }
        }
        let handed = try await handoffs(redis, queue)
        print("direct handoff: \(handed) of 20 jobs enqueued one at a time into an idle worker were handed off")
        #expect(handed == 20, "a job enqueued while a worker waits is handed to it, not left for a take")
        #expect(log.all.allSatisfy { $0.attempt == 1 })
        // Stopped: the worker unregistered.
        #expect(try await redis.command(["ZCARD", .string(QueueKeys(queue: queue).waiters)]).int == 0)
        try await redis.shutdown()
    }

    @Test func aWaiterThatDiedLosesNoJobAndAStoppingOneGivesItsJobBack() async throws {
        let redis = try makeRedis()
        let queue = uniqueQueueName("handoff-dead")
        let k = QueueKeys(queue: queue)
        // A waiter that will never read its inbox (a worker SIGKILLed while waiting), with a 300 ms lease.
        let registered = try await redis.command(["TIME"]).array?.first?.int ?? 0
        try await redis.command(["ZADD", .string(k.waiters), .int(registered * 1000 + 60_000), "300|ghost"])
        let id = try await JobQueue(redis: redis).enqueue(Marker(label: "x"), options: .init(queue: queue))
        let inspector = QueueInspector(redis: redis)
        #expect(try await inspector.job(id, queue: queue)?.leaseOwner == "ghost", "handed to the waiter")
        #expect(try await redis.command(["LLEN", .string(k.inbox("ghost"))]).int == 1)
        // Its lease lapses and a live worker runs it.
        let log = RunLog()
        var options = fastWorkerOptions(queue: queue)
        options.directHandoff = false
        try await withWorker(redis: redis, options: options, register: { $0.register(Marker.self) { _, c in log.record(c) } }) { _ in
            try await expectEventually { log.count == 1 }
        }
        #expect(log.all.first?.id == id && log.all.first?.attempt == 2, "the lapsed handoff counted as an attempt, like any lapsed lease")

        // A stopping waiter: unwait.lua unregisters it and puts what reached its inbox back in ready, attempt restored.
        try await redis.command(["ZADD", .string(k.waiters), .int(registered * 1000 + 60_000), "10000|stopping"])
        let second = try await JobQueue(redis: redis).enqueue(Marker(label: "y"), options: .init(queue: queue))
        #expect(try await inspector.job(second, queue: queue)?.state == "active")
        let back = try await redis.evaluate(
            QueueScripts.unwait, keys: [.string(k.waiters), .string(k.inbox("stopping")), .string(k.active), .string(k.ready), .string(k.doorbell)],
            arguments: [.string(k.prefix), "10000|stopping"])
        #expect(back.int == 1)
        let job = try #require(try await inspector.job(second, queue: queue))
        #expect(job.state == "ready" && job.attempt == 0 && job.leaseOwner == nil)
        #expect(try await redis.command(["ZCARD", .string(k.waiters)]).int == 0)

        // A paused queue hands nothing off.
        try await redis.command(["ZADD", .string(k.waiters), .int(registered * 1000 + 60_000), "10000|idle"])
        try await redis.command(["SET", .string(k.paused), "1"])
        let third = try await JobQueue(redis: redis).enqueue(Marker(label: "z"), options: .init(queue: queue))
        #expect(try await inspector.job(third, queue: queue)?.state == "ready")
        try await redis.shutdown()
    }

    @Test func aHandedOffJobParsesInItsShapeAndAnyOtherShapeIsRefused() throws {
        let options = #"{\"retry\":{\"base_ms\":100,\"cap_ms\":1000,\"max_attempts\":4}}"#
        let now = Array(#"["j1","7",2,"noop","{}",""#.utf8) + Array(options.utf8) + Array(#"","1700000000000",false,""]"#.utf8)
        let older = Array(#"["j1","7",2,"4","noop","{}",""#.utf8) + Array(options.utf8) + Array(#"","1700000000000",false,""]"#.utf8)
        let job = try LeasedJob.parseHandoff(now, queue: "q")
        #expect(job.id == "j1" && job.token == "7" && job.attempt == 2 && job.name == "noop" && job.payload == Array("{}".utf8))
        #expect(job.maxAttempts == 4 && job.options.retry.base == .milliseconds(100) && job.readyAtMs == 1_700_000_000_000)
        #expect(job.collected == nil && job.uniqueMode == "")
        // The pre-release 10-value shape (max attempts fourth) is no longer read.
        #expect(throws: QueueError.self) { try LeasedJob.parseHandoff(older, queue: "q") }
        #expect(throws: QueueError.self) { try LeasedJob.parseHandoff(Array(#"["j1","7",2]"#.utf8), queue: "q") }
    }

}
