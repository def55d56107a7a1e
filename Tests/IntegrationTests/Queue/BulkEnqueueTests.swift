import Foundation
@testable import SwitchboardQueue
import SwitchboardRedis
import Testing

/// A bulk enqueue decides unique keys one by one inside its script calls, across calls as within one.
@Suite("Bulk enqueue with unique keys")
struct BulkEnqueueTests {
    @Test func tenThousandJobsWithAThousandDuplicateKeysCreateExactlyNineThousand() async throws {
        let redis = try makeRedis()
        let queue = JobQueue(redis: redis)
        let name = uniqueQueueName("bulk-unique")
        // Every tenth job repeats the key of an earlier one: some in the same script call (500 jobs each), most in
        // an earlier call of the same bulk.
        var keys: [String] = []
        var firstHolder: [String: Int] = [:]
        var distinct = 0
        for i in 0..<10_000 {
            if i % 10 == 9 {
                keys.append("key-\((i * 7919) % distinct)")
            } else {
                keys.append("key-\(distinct)")
                firstHolder["key-\(distinct)"] = i
                distinct += 1
            }
        }
        let jobs = try keys.map { key in
            try JobQueue.NewJob(DiagnosticJobs.Noop(), options: JobOptions(queue: name, unique: UniqueOptions(key: key)))
        }
        let ids = try await queue.enqueue(jobs: jobs)

        #expect(ids.count == 10_000)
        #expect(Set(ids).count == 9_000, "one job per distinct key")
        // A duplicate gets the id of the job that took its key first.
        let mismatched = keys.indices.filter { ids[$0] != ids[firstHolder[keys[$0]]!] }
        #expect(mismatched.isEmpty, "\(mismatched.count) jobs did not get their key's holder id")
        let k = QueueKeys(queue: name)
        #expect(try await redis.command(["LLEN", .string(k.ready)]).int == 9_000)
        let created = try await redis.pipeline(Set(ids).map { ["EXISTS", .string(k.prefix + "job:" + $0)] }).filter { $0.int == 1 }.count
        #expect(created == 9_000)
        try await redis.shutdown()
    }
}
