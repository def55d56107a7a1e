import Foundation
import SwitchboardScheduler
import Testing

/// Unix ms of an ISO 8601 time with its offset ("2026-03-08T03:30:00-04:00", fractional seconds allowed).
func ms(_ iso: String) -> Int64 {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = iso.contains(".") ? [.withInternetDateTime, .withFractionalSeconds] : [.withInternetDateTime]
    guard let date = formatter.date(from: iso) else { fatalError("bad ISO time in a test table: \(iso)") }
    return Int64((date.timeIntervalSince1970 * 1000).rounded())
}

/// One row: the schedule, its zone, the instant to search after, the expected next fire.
struct NextFireCase: CustomTestStringConvertible, Sendable {
    let spec: String
    let zone: String
    let after: String
    let expected: String
    let why: String
    init(_ spec: String, _ zone: String = "UTC", after: String, _ expected: String, _ why: String) {
        (self.spec, self.zone, self.after, self.expected, self.why) = (spec, zone, after, expected, why)
    }
    var testDescription: String { "\(spec) [\(zone)] after \(after): \(why)" }
}

/// The table, from Fixtures/cron-next-fire.txt (a data file: one case a line, `|` between fields, `#` comments).
let nextFireTable: [NextFireCase] = {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/cron-next-fire.txt").path
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { fatalError("cannot read \(path)") }
    return text.split(separator: "\n").compactMap { line -> NextFireCase? in
        if line.hasPrefix("#") || line.allSatisfy(\.isWhitespace) { return nil }
        let f = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
        guard f.count == 5 else { fatalError("a row of cron-next-fire.txt needs 5 fields: \(line)") }
        return NextFireCase(f[0], f[1], after: f[2], f[3], f[4])
    }
}()

@Suite("Cron next-fire table")
struct CronScheduleTests {
    @Test(arguments: nextFireTable)
    func nextFire(_ row: NextFireCase) throws {
        let schedule = try CronSchedule(row.spec)
        let zone = try #require(TimeZone(identifier: row.zone))
        #expect(schedule.nextFire(after: ms(row.after), in: zone) == ms(row.expected))
    }

    @Test func theTableCoversAtLeastFortyCases() {
        #expect(nextFireTable.count >= 40)
    }

    /// Walks fire times across a DST change and counts fires per local day.
    func firesPerLocalDay(_ spec: String, _ zone: String, from: String, to: String) throws -> [String: Int] {
        let schedule = try CronSchedule(spec)
        let tz = try #require(TimeZone(identifier: zone))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = tz
        var counts: [String: Int] = [:]
        var t = ms(from)
        while let next = schedule.nextFire(after: t, in: tz), next <= ms(to) {
            let c = calendar.dateComponents([.year, .month, .day], from: Date(timeIntervalSince1970: Double(next) / 1000))
            counts["\(c.year!)-\(c.month!)-\(c.day!)", default: 0] += 1
            t = next
        }
        return counts
    }

    @Test func aDailyJobInTheSpringGapFiresOnceThatDay() throws {
        let ny = try firesPerLocalDay("30 2 * * *", "America/New_York", from: "2026-03-06T00:00:00-05:00", to: "2026-03-11T00:00:00-04:00")
        #expect(ny == ["2026-3-6": 1, "2026-3-7": 1, "2026-3-8": 1, "2026-3-9": 1, "2026-3-10": 1])
        let berlin = try firesPerLocalDay("30 2 * * *", "Europe/Berlin", from: "2026-03-27T00:00:00+01:00", to: "2026-03-31T00:00:00+02:00")
        #expect(berlin == ["2026-3-27": 1, "2026-3-28": 1, "2026-3-29": 1, "2026-3-30": 1])
    }

    @Test func aDailyJobInTheFallOverlapFiresOnceThatDay() throws {
        let ny = try firesPerLocalDay("30 1 * * *", "America/New_York", from: "2026-10-30T00:00:00-04:00", to: "2026-11-03T00:00:00-05:00")
        #expect(ny == ["2026-10-30": 1, "2026-10-31": 1, "2026-11-1": 1, "2026-11-2": 1])
        let berlin = try firesPerLocalDay("30 2 * * *", "Europe/Berlin", from: "2026-10-23T00:00:00+02:00", to: "2026-10-27T00:00:00+01:00")
        #expect(berlin == ["2026-10-23": 1, "2026-10-24": 1, "2026-10-25": 1, "2026-10-26": 1])
    }

    @Test func anHourlyJobFiresOncePerRealHourAcrossBothChanges() throws {
        // 24 real hours around each change: the spring day has 23 local hours, the fall day 25.
        let spring = try firesPerLocalDay("0 * * * *", "America/New_York", from: "2026-03-07T23:59:00-05:00", to: "2026-03-08T23:59:00-04:00")
        #expect(spring["2026-3-8"] == 23)
        let fall = try firesPerLocalDay("0 * * * *", "America/New_York", from: "2026-10-31T23:59:00-04:00", to: "2026-11-01T23:59:00-05:00")
        #expect(fall["2026-11-1"] == 25)
    }

    @Test(arguments: [
        ("61 * * * *", "minute field \"61\" is out of range 0-59"),
        ("0 24 * * *", "hour field \"24\" is out of range 0-23"),
        ("0 0 0 * *", "day-of-month field \"0\" is out of range 1-31"),
        ("0 0 * 13 *", "month field \"13\" is out of range 1-12"),
        ("0 0 * * 8", "day-of-week field \"8\" is out of range 0-7"),
        ("*/0 * * * *", "minute field \"*/0\" has step \"0\"; a step is a whole number of at least 1"),
        ("0 5-2 * * *", "hour field \"5-2\" has the backwards range 5-2"),
        ("0 0 * FOO *", "month field \"FOO\" has \"FOO\", which is not a number or name or range"),
        ("0 0 * *", "\"0 0 * *\" has 4 fields; a cron expression has 5 (minute hour day-of-month month day-of-week) or 6 (with leading seconds)"),
        ("0 0 30 2 *", "\"0 0 30 2 *\" never fires: no month in it has the day of month it names"),
        ("@fortnightly", "\"@fortnightly\" is not a known macro; use @yearly, @monthly, @weekly, @daily, @hourly or @every <duration>"),
        ("@every 0s", "\"@every 0s\": @every needs a duration of at least 1s, such as @every 30s or @every 1h30m"),
        ("@every 1500ms", "\"@every 1500ms\": @every takes whole seconds"),
        ("60 * * * * *", "second field \"60\" is out of range 0-59"),
        ("1,,2 * * * *", "minute field \"1,,2\" has an empty item"),
    ])
    func invalidExpressionsSayWhatIsWrong(_ spec: String, _ message: String) {
        #expect(throws: CronError(message)) { try CronSchedule(spec) }
    }
}
