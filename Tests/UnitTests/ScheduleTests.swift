import Foundation
import SwitchboardQueue
import SwitchboardScheduler
import Testing

@Suite("Schedule files and missed ticks")
struct ScheduleTests {
    func entry(_ spec: String = "@every 1s", missed: MissedTickPolicy, grace: Duration = .milliseconds(500)) throws -> ScheduleEntry {
        ScheduleEntry(
            name: "e", spec: spec, schedule: try CronSchedule(spec), timeZone: TimeZone(identifier: "UTC")!, jobName: "noop",
            payload: Array("{}".utf8), queue: "q", missed: missed, grace: grace)
    }

    // A scheduler last handled tick T0 and was down for 5 ticks: it starts again 5.7 s later.
    let t0 = ms("2026-01-01T00:00:00Z")

    @Test func skipFiresNoneOfTheMissedTicks() throws {
        let plan = try entry(missed: .skip).plan(cursor: t0, now: t0 + 5_700)
        #expect(plan.fire.isEmpty)
        #expect(plan.advanceTo == t0 + 5_000)
        #expect(plan.missed == 5)
    }

    @Test func oneFiresTheNewestMissedTickOnly() throws {
        let plan = try entry(missed: .one).plan(cursor: t0, now: t0 + 5_700)
        #expect(plan.fire == [t0 + 5_000])
        #expect(plan.advanceTo == t0 + 5_000)
    }

    @Test func allFiresEveryMissedTick() throws {
        let plan = try entry(missed: .all).plan(cursor: t0, now: t0 + 5_700)
        #expect(plan.fire == (1...5).map { t0 + Int64($0) * 1000 })
    }

    @Test func allIsCappedAtTheNewestHundred() throws {
        let plan = try entry(missed: .all).plan(cursor: t0, now: t0 + 1_000_700)
        #expect(plan.fire.count == MissedTickPolicy.catchUpLimit)
        #expect(plan.fire.last == t0 + 1_000_000)
        #expect(plan.missed == 1000)
    }

    @Test func ticksWithinTheGraceAreLateNotMissedAndAlwaysFire() throws {
        // A replica that took over 4 s after the leader died: every tick fires, whatever the policy.
        let plan = try entry(missed: .skip, grace: .seconds(60)).plan(cursor: t0, now: t0 + 4_200)
        #expect(plan.fire == (1...4).map { t0 + Int64($0) * 1000 })
        #expect(plan.missed == 0)
    }

    @Test func aNewEntryStartsFromNowWithoutCatchingUp() throws {
        let plan = try entry(missed: .all).plan(cursor: nil, now: t0 + 123)
        #expect(plan.fire.isEmpty)
        #expect(plan.advanceTo == t0 + 123)
    }

    // MARK: - Files

    @Test func aValidFileGivesItsEntriesWithTypedArgs() throws {
        let yaml = """
            # comment
            nightly-rollup:
              cron: "30 2 * * *"
              timezone: Europe/Berlin
              job: noop
              queue: maintenance
              args: { tenant: acme, limit: 500, ratio: 0.5, dry_run: false, note: null, tags: [a, b], quoted: "42" }
              missed: all
              grace: 2m
              max_attempts: 3
            ping:
              cron: "@every 30s"
              job: noop
            """
        let entries = try ScheduleLoader.parse(yaml, file: "Schedules/x.yml", knownJobs: ["noop"])
        #expect(entries.map(\.name) == ["nightly-rollup", "ping"])
        let rollup = entries[0]
        #expect(rollup.timeZone.identifier == "Europe/Berlin")
        #expect(rollup.queue == "maintenance" && rollup.missed == .all && rollup.grace == .seconds(120))
        #expect(rollup.retryPolicy?.maxAttempts == 3)
        #expect(
            String(decoding: rollup.payload, as: UTF8.self)
                == #"{"dry_run":false,"limit":500,"note":null,"quoted":"42","ratio":0.5,"tags":["a","b"],"tenant":"acme"}"#)
        let ping = entries[1]
        #expect(ping.queue == "default" && ping.missed == .skip && ping.timeZoneName == "UTC" && ping.grace == .seconds(60))
        #expect(String(decoding: ping.payload, as: UTF8.self) == "{}")
    }

    @Test(arguments: [
        (
            "expire-contexts:\n  cron: \"61 * * * *\"\n  job: noop\n",
            #"Schedules/maintenance.yml: entry "expire-contexts": minute field "61" is out of range 0-59"#
        ),
        (
            "a:\n  cron: \"* * * * *\"\n  job: noop\n  timezone: Mars/Olympus\n",
            #"Schedules/maintenance.yml: entry "a": timezone "Mars/Olympus" is not an IANA time zone name (such as UTC, Europe/Berlin, America/New_York)"#
        ),
        (
            "a:\n  cron: \"* * * * *\"\n  job: send-invoices\n",
            #"Schedules/maintenance.yml: entry "a": job "send-invoices" is not a job the workers know; known: noop"#
        ),
        (
            "a:\n  cron: \"* * * * *\"\n  job: noop\n  crn: x\n",
            #"Schedules/maintenance.yml: entry "a": has the unknown key "crn"; known keys: cron, job, queue, timezone, args, missed, grace, max_attempts"#
        ),
        ("a:\n  job: noop\n", #"Schedules/maintenance.yml: entry "a": needs cron (for example "*/5 * * * *" or "@every 30s")"#),
        ("a:\n  cron: \"@daily\"\n  job: noop\n  missed: twice\n", #"Schedules/maintenance.yml: entry "a": missed "twice" must be skip, one or all"#),
        (
            "a:\n  cron: \"@daily\"\n  job: noop\n  queue: \"bad queue\"\n",
            #"Schedules/maintenance.yml: entry "a": queue name "bad queue" must be 1-64 letters, digits, '-', '_' or '.'"#
        ),
        (
            "a b:\n  cron: \"@daily\"\n  job: noop\n",
            #"Schedules/maintenance.yml: entry "a b": name "a b" must be 1-100 letters, digits, '-', '_' or '.'"#
        ),
        ("- just\n- a list\n", "Schedules/maintenance.yml: must be a mapping from entry names to entries (see Schedules/README.md)"),
    ])
    func invalidFilesNameTheFileTheEntryAndTheFault(_ yaml: String, _ message: String) {
        do {
            _ = try ScheduleLoader.parse(yaml, file: "Schedules/maintenance.yml", knownJobs: ["noop"])
            Issue.record("no error for an invalid file")
        } catch {
            #expect(error.description == message)
        }
    }

    @Test func brokenYAMLIsReportedWithItsFile() {
        do {
            _ = try ScheduleLoader.parse("a:\n  cron: [unclosed\n", file: "Schedules/m.yml")
            Issue.record("no error for broken YAML")
        } catch {
            #expect(error.description.hasPrefix("Schedules/m.yml: is not valid YAML"))
        }
    }

    @Test func entryNamesAreUniqueAcrossFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sched-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "a:\n  cron: \"@daily\"\n  job: noop\n".write(toFile: dir + "/one.yml", atomically: true, encoding: .utf8)
        try "a:\n  cron: \"@hourly\"\n  job: noop\n".write(toFile: dir + "/two.yaml", atomically: true, encoding: .utf8)
        try "ignored".write(toFile: dir + "/README.md", atomically: true, encoding: .utf8)
        do {
            _ = try ScheduleLoader.load(directory: dir)
            Issue.record("no error for a duplicate name")
        } catch {
            #expect(error.description == "\(dir)/two.yaml: entry \"a\": is also defined in \(dir)/one.yml; entry names must be unique")
        }
    }
}
