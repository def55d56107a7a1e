import Foundation
@testable import SwitchboardQueue
import SwitchboardRedis
import Testing

/// Concurrent one-job enqueues on one `JobQueue` share round trips (group commit), and stay separate in outcome.
@Suite("Concurrent enqueues share round trips")
struct EnqueueCoalescingTests {
    @Test func concurrentCallersShareScriptCallsAndEachGetsItsOwnOutcome() async throws {
        // A private server, so the script-call count is ours alone.
        let server = try await RedisServerProcess()
        let redis = RedisClient(configuration: try RedisConfiguration(url: server.url), maxConnections: 4)
        let queue = JobQueue(redis: redis)
        let name = uniqueQueueName("coalesce")
        _ = try await queue.enqueue(DiagnosticJobs.Noop(), options: JobOptions(queue: name))  // loads the script
        try await redis.command(["CONFIG", "RESETSTAT"])

        // 400 callers at once, each enqueueing one job; five of them share one unique key, and one has a bad option.
        let outcomes = try await withThrowingTaskGroup(of: (Int, Result<String, any Error>).self) { group in
            for i in 0..<400 {
                group.addTask {
                    var options = JobOptions(queue: name)
                    if i < 5 { options.unique = UniqueOptions(key: "shared-\(name)") }
                    if i == 7 { options.delay = .seconds(-1) }
                    do {
                        return (i, .success(try await queue.enqueue(DiagnosticJobs.Noop(), options: options)))
                    } catch {
                        return (i, .failure(error))
                    }
                }
            }
            return try await group.reduce(into: [Int: Result<String, any Error>]()) { $0[$1.0] = $1.1 }
        }
        let stats = try await redis.command(["INFO", "commandstats"]).string ?? ""
        let calls =
            stats.split(whereSeparator: \.isNewline).first { $0.hasPrefix("cmdstat_evalsha:") }
            .flatMap { $0.split(separator: ",").first?.split(separator: "=").last }.flatMap { Int($0) } ?? 0

        // Only the caller with the bad option failed, with its own error.
        let failed = outcomes.filter { if case .failure = $0.value { return true } else { return false } }
        #expect(failed.map(\.key) == [7])
        // The five unique callers got one id; every other caller a distinct job.
        let ids = outcomes.compactMapValues { try? $0.get() }
        #expect(Set((0..<5).compactMap { ids[$0] }).count == 1)
        #expect(Set(ids.values).count == 400 - 1 - 4)
        #expect(try await redis.command(["LLEN", .string(QueueKeys(queue: name).ready)]).int == Int64(400 - 1 - 4 + 1))
        // And they went out in far fewer script calls than jobs.
        #expect(calls >= 1 && calls < 200, "EVALSHA calls for 399 one-job enqueues: \(calls)")
        try await redis.shutdown()
        await server.stop()
    }

    @Test func commandsAheadOfJobsRunFirstInTheirRoundTrip() async throws {
        let redis = try makeRedis()
        let queue = JobQueue(redis: redis)
        let name = uniqueQueueName("ahead")
        let marker = "test:{ahead-\(name)}"  // one hash tag: the cleanup deletes two keys in one command (Cluster)
        let job = try JobQueue.NewJob(DiagnosticJobs.Noop(), options: JobOptions(queue: name))
        let ids = try await queue.enqueue(jobs: [job, job], after: [["SET", .string(marker), "1"], ["PEXPIRE", .string(marker), "60000"]])
        #expect(Set(ids).count == 2)
        #expect(try await redis.command(["GET", .string(marker)]).string == "1")
        #expect(try await redis.command(["LLEN", .string(QueueKeys(queue: name).ready)]).int == 2)
        // A command Redis refuses fails the call (the jobs may still be stored: the caller answers 503 and retries).
        await #expect(throws: RedisError.self) {
            try await queue.enqueue(jobs: [job], after: [["INCR", .string(marker + ":text")], ["HSET", .string(marker), "a", "b"]])
        }
        try await redis.command(["DEL", .string(marker), .string(marker + ":text")])
        try await redis.shutdown()
    }
}
