import Foundation
import SwitchboardProcess
import Logging
@testable import SwitchboardQueue
import SwitchboardRedis
import SwitchboardScheduler
import Testing

/// The scheduler against real Redis: missed-tick policies in process, replicas as real `switchboard scheduler`s.
@Suite("Scheduler", .timeLimit(.minutes(4)))
struct SchedulerTests {
    /// A folder holding `files` (name → YAML), removed by the caller.
    func scheduleFolder(_ files: [String: String]) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("schedules-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8) }
        return dir
    }

    /// Ticks (ms) of the jobs `series` enqueued on `queue` (ids are `<series>@<tick>`), sorted.
    func ticks(_ redis: RedisClient, queue: String, series: String) async throws -> [Int64] {
        let ids = (try await redis.command(["LRANGE", .string(QueueKeys(queue: queue).ready), 0, -1]).array ?? []).compactMap(\.string)
        return ids.filter { $0.hasPrefix(series + "@") }.compactMap { Int64($0.dropFirst(series.count + 1)) }.sorted()
    }

    /// Runs an in-process scheduler until `until` holds, then cancels it and waits for it to stop.
    func runScheduler(_ redis: RedisClient, _ entries: [ScheduleEntry], group: String, until: () async throws -> Bool) async throws {
        var options = Scheduler.Options()
        options.group = group
        let scheduler = Scheduler(redis: redis, entries: entries, options: options, logger: Logger(label: "test-scheduler"))
        let task = Task { try await scheduler.run() }
        defer { task.cancel() }
        try await expectEventually(timeout: .seconds(20)) { try await until() }
        task.cancel()
        _ = await task.result
    }

    @Test func afterFiveMissedTicksSkipFiresNoneOneFiresTheNewestAllFiresEach() async throws {
        let redis = try makeRedis()
        let queue = uniqueQueueName("missed")
        let group = uniqueQueueName("grp")
        let tag = String(queue.suffix(8))
        let entries = try MissedTickPolicy.allCases.map { policy in
            ScheduleEntry(
                name: "\(policy.rawValue)-\(tag)", spec: "@every 2s", schedule: try CronSchedule("@every 2s"), timeZone: TimeZone(identifier: "UTC")!,
                jobName: "noop", payload: Array("{}".utf8), queue: queue, missed: policy, grace: .milliseconds(500))
        }
        let series = try entries.map { try TickSeries(redis: redis, queue: queue, name: $0.name) }
        // Run until every entry has fired a tick, then stop: the scheduler is down.
        try await runScheduler(redis, entries, group: group) {
            for s in series where try await s.record().fired < 1 { return false }
            return true
        }
        let cursors = try await series.asyncMap { try await $0.record().cursor ?? 0 }
        let c = try #require(cursors.first)
        #expect(Set(cursors).count == 1, "@every ticks are epoch-anchored, so every entry stopped at the same tick")
        // Down for 5 ticks (c+2s … c+10s), restarted 0.8 s after the fifth, so all five are more than the grace late.
        let wake = Double(c + 10_800) / 1000 - Date().timeIntervalSince1970
        if wake > 0 { try await Task.sleep(for: .milliseconds(Int64(wake * 1000))) }
        try await runScheduler(redis, entries, group: group) {
            for s in series where try await s.record().cursor ?? 0 < c + 10_000 { return false }
            return true
        }
        let missedTicks = (1...5).map { c + Int64($0) * 2000 }
        var fired: [MissedTickPolicy: [Int64]] = [:]
        for entry in entries {
            fired[entry.missed] = try await ticks(redis, queue: queue, series: entry.name).filter { $0 > c && $0 <= c + 10_000 }
        }
        #expect(fired[.skip] == [])
        #expect(fired[.one] == [c + 10_000])
        #expect(fired[.all] == missedTicks)
        print("missed-tick policies after 5 missed ticks: skip \(fired[.skip]!.count), one \(fired[.one]!.count), all \(fired[.all]!.count)")
        try await redis.shutdown()
    }

    @Test func threeReplicasFireEachTickExactlyOnceEvenWhenTheLeaderIsKilled() async throws {
        let redis = try makeRedis()
        let queue = uniqueQueueName("replicas")
        let group = uniqueQueueName("grp")
        let set = "test:\(queue):probe"
        let name = "probe-\(queue.suffix(8))"
        let dir = try scheduleFolder([
            "probe.yml": """
            \(name):
              cron: "@every 1s"
              job: probe
              queue: \(queue)
              args: { ms: 0, set: "\(set)" }
            """
        ])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var replicas: [(pid: pid_t, log: String)] = []
        for i in 0..<3 {
            let log = FileManager.default.temporaryDirectory.appendingPathComponent("scheduler-\(queue)-\(i).log").path
            replicas.append(
                (
                    try spawnWithCleanSignals(
                        [try TestEnvironment.switchboardBinary(), "scheduler", "--schedules", dir, "--group", group], outputPath: log), log
                ))
        }
        let logs = { replicas.map { (try? String(contentsOfFile: $0.log, encoding: .utf8)) ?? "" }.joined(separator: "\n---\n") }
        let clock = ContinuousClock()
        let started = clock.now
        var killedAfter: Duration = .zero
        var failover: Duration = .zero
        try await withWorker(redis: redis, options: fastWorkerOptions(queue: queue)) { _ in
            try await Task.sleep(until: started + .seconds(30))
            // SIGKILL whichever replica leads now.
            let holder = try #require(try await redis.command(["GET", .string(Scheduler.leaderKey(group: group))]).string, "no leader: \(logs())")
            let leaderPID = try #require(Int32(holder.split(separator: ":")[1]))
            #expect(replicas.contains { $0.pid == leaderPID })
            kill(leaderPID, SIGKILL)
            _ = await waitForChild(leaderPID)
            let killed = clock.now
            killedAfter = killed - started
            try await expectEventually(timeout: .seconds(10)) {
                let now = try await redis.command(["GET", .string(Scheduler.leaderKey(group: group))]).string
                return now != nil && now != holder
            }
            failover = clock.now - killed
            try await Task.sleep(until: started + .seconds(60))
            for replica in replicas where replica.pid != leaderPID {
                kill(replica.pid, SIGTERM)
                #expect(await waitForChild(replica.pid) == 0, "replica log: \(logs())")
            }
            try await expectEventually { try await QueueInspector(redis: redis).stats(queue: queue).ready == 0 }
            try await expectEventually { try await QueueInspector(redis: redis).stats(queue: queue).active == 0 }
        }
        let ran = (try await redis.command(["SMEMBERS", .string(set)]).array ?? []).compactMap(\.string)
        let counter = try await redis.command(["GET", .string(set + ":count")]).int ?? 0
        let ticks = ran.compactMap { Int64($0.dropFirst(name.count + 1)) }.sorted()
        let gaps = zip(ticks.dropFirst(), ticks).map { $0 - $1 }
        print("3 replicas, 60 s, leader SIGKILLed at \(killedAfter): \(ticks.count) ticks ran, counter \(counter), new leader after \(failover)")
        #expect((59...61).contains(ticks.count), "ticks: \(ticks.count)")
        #expect(counter == ticks.count, "a tick ran twice")
        #expect(gaps.allSatisfy { $0 == 1000 }, "a tick is missing: gaps \(Set(gaps))")

        let listed = try await runSwitchboard(["schedules", "--schedules", dir, "--json"])
        #expect(listed.status == 0)
        let rows = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]]
        #expect(rows?.first?["name"] as? String == name)
        #expect((rows?.first?["lastFireMs"] as? NSNumber)?.int64Value == ticks.last)
        #expect((rows?.first?["fired"] as? Int) == ticks.count)
        try await redis.shutdown()
    }

    @Test func anInvalidScheduleFileStopsStartUpNamingTheFileAndEntry() async throws {
        let dir = try scheduleFolder(["maintenance.yml": "expire-contexts:\n  cron: \"61 * * * *\"\n  job: noop\n"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let result = try await runSwitchboard(["scheduler", "--schedules", dir])
        #expect(result.status == 78)
        #expect(result.stderr.contains("error: \(dir)/maintenance.yml: entry \"expire-contexts\": minute field \"61\" is out of range 0-59"))
        let listing = try await runSwitchboard(["schedules", "--schedules", dir])
        #expect(listing.status == 78)
    }

    @Test func theShippedSchedulesLoad() async throws {
        let result = try await runSwitchboard([
            "schedules", "--schedules", TestEnvironment.packageRoot.appendingPathComponent("Schedules").path, "--json",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains(#""name" : "queue-check""#))
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for element in self { out.append(try await transform(element)) }
        return out
    }
}
