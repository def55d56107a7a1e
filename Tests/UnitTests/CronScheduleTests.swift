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

let nextFireTable: [NextFireCase] = [
    // Fields, lists, ranges, steps.
    .init("* * * * *", after: "2026-01-01T00:00:00Z", "2026-01-01T00:01:00Z", "every minute: strictly after"),
    .init("* * * * *", after: "2026-01-01T00:00:30Z", "2026-01-01T00:01:00Z", "every minute from mid-minute"),
    .init("*/15 * * * *", after: "2026-01-01T10:07:00Z", "2026-01-01T10:15:00Z", "step"),
    .init("0 * * * *", after: "2026-01-01T10:00:00Z", "2026-01-01T11:00:00Z", "hourly at :00"),
    .init("30 2 * * *", after: "2026-01-01T03:00:00Z", "2026-01-02T02:30:00Z", "daily, today's already passed"),
    .init("0 9-17 * * *", after: "2026-01-01T17:00:00Z", "2026-01-02T09:00:00Z", "range ends, next day"),
    .init("0 9-17/4 * * *", after: "2026-01-01T09:00:00Z", "2026-01-01T13:00:00Z", "range with step"),
    .init("5,10,50 * * * *", after: "2026-01-01T10:10:00Z", "2026-01-01T10:50:00Z", "list"),
    .init("10/20 * * * *", after: "2026-01-01T10:30:00Z", "2026-01-01T10:50:00Z", "a/n: from a to the end"),
    .init("0-10,45-50/5 * * * *", after: "2026-01-01T10:10:00Z", "2026-01-01T10:45:00Z", "list of ranges"),
    // Month ends and leap years.
    .init("0 0 1 * *", after: "2026-01-15T00:00:00Z", "2026-02-01T00:00:00Z", "first of the month"),
    .init("0 0 31 * *", after: "2026-01-31T00:00:00Z", "2026-03-31T00:00:00Z", "31st skips February"),
    .init("0 0 30 * *", after: "2026-01-30T00:00:00Z", "2026-03-30T00:00:00Z", "30th skips February"),
    .init("0 0 31 * *", after: "2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z", "31st skips April"),
    .init("0 0 29 2 *", after: "2026-01-01T00:00:00Z", "2028-02-29T00:00:00Z", "Feb 29: next leap year"),
    .init("0 0 29 2 *", after: "2096-03-01T00:00:00Z", "2104-02-29T00:00:00Z", "2100 is not a leap year"),
    .init("0 0 29 2 *", after: "1999-03-01T00:00:00Z", "2000-02-29T00:00:00Z", "2000 is a leap year"),
    .init("59 23 31 12 *", after: "2026-12-31T23:59:00Z", "2027-12-31T23:59:00Z", "year end"),
    // Weekdays: Sunday as 0 and 7, names, ranges; day-of-month OR day-of-week when both are set.
    .init("0 0 * * 0", after: "2026-01-01T00:00:00Z", "2026-01-04T00:00:00Z", "Sunday as 0"),
    .init("0 0 * * 7", after: "2026-01-01T00:00:00Z", "2026-01-04T00:00:00Z", "Sunday as 7"),
    .init("0 0 * * SUN", after: "2026-01-01T00:00:00Z", "2026-01-04T00:00:00Z", "Sunday by name"),
    .init("0 0 * * 5-7", after: "2026-01-03T12:00:00Z", "2026-01-04T00:00:00Z", "range ending in 7"),
    .init("0 0 * * MON-FRI", after: "2026-01-02T12:00:00Z", "2026-01-05T00:00:00Z", "weekday range by name over a weekend"),
    .init("0 0 * * 1-5/2", after: "2026-01-05T00:00:00Z", "2026-01-07T00:00:00Z", "Mon, Wed, Fri"),
    .init("0 12 * JAN,JUL *", after: "2026-02-01T00:00:00Z", "2026-07-01T12:00:00Z", "month names"),
    .init("0 12 1 jun-aug *", after: "2026-01-01T00:00:00Z", "2026-06-01T12:00:00Z", "lower-case month range"),
    .init("0 0 1 * MON", after: "2026-01-01T00:00:00Z", "2026-01-05T00:00:00Z", "1st or Monday: the Monday comes first"),
    .init("0 0 13 * FRI", after: "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "13th or Friday: Friday the 2nd"),
    // Seconds field.
    .init("*/20 * * * * *", after: "2026-01-01T10:00:05Z", "2026-01-01T10:00:20Z", "six fields: every 20 s"),
    .init("30 0 0 * * *", after: "2026-01-01T00:00:30Z", "2026-01-02T00:00:30Z", "six fields: daily at 00:00:30"),
    .init("0 0 0 1 1 *", after: "2026-06-01T00:00:00Z", "2027-01-01T00:00:00Z", "six fields: yearly"),
    .init("* * * * *", after: "2026-01-01T00:00:59.999Z", "2026-01-01T00:01:00Z", "sub-second input"),
    // Macros.
    .init("@yearly", after: "2026-06-01T00:00:00Z", "2027-01-01T00:00:00Z", "@yearly"),
    .init("@annually", after: "2026-06-01T00:00:00Z", "2027-01-01T00:00:00Z", "@annually"),
    .init("@monthly", after: "2026-01-31T12:00:00Z", "2026-02-01T00:00:00Z", "@monthly"),
    .init("@weekly", after: "2026-01-01T00:00:00Z", "2026-01-04T00:00:00Z", "@weekly: Sundays"),
    .init("@daily", after: "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "@daily"),
    .init("@midnight", after: "2026-01-01T12:00:00Z", "2026-01-02T00:00:00Z", "@midnight"),
    .init("@hourly", after: "2026-01-01T10:59:59Z", "2026-01-01T11:00:00Z", "@hourly"),
    .init("@every 30s", after: "2026-01-01T10:00:10Z", "2026-01-01T10:00:30Z", "@every: epoch multiples"),
    .init("@every 1h30m", after: "2026-01-01T00:00:00Z", "2026-01-01T01:30:00Z", "@every compound duration"),
    .init("@every 1s", after: "2026-01-01T10:00:00.500Z", "2026-01-01T10:00:01Z", "@every from mid-second"),
    .init("@every 1s", "America/New_York", after: "2026-03-08T01:59:59-05:00", "2026-03-08T03:00:00-04:00", "@every ignores DST"),
    // Time zones.
    .init("0 0 * * *", "Asia/Kolkata", after: "2026-01-01T00:00:00Z", "2026-01-01T18:30:00Z", "half-hour offset"),
    .init("0 9 * * *", "America/New_York", after: "2026-03-07T09:00:00-05:00", "2026-03-08T09:00:00-04:00", "the 23-hour day"),
    // America/New_York: 2026-03-08 02:00 EST → 03:00 EDT; 2026-11-01 02:00 EDT → 01:00 EST.
    .init("30 2 * * *", "America/New_York", after: "2026-03-07T12:00:00-05:00", "2026-03-08T03:30:00-04:00", "NY spring gap: 02:30 fires at 03:30"),
    .init("30 2 * * *", "America/New_York", after: "2026-03-08T03:30:00-04:00", "2026-03-09T02:30:00-04:00", "NY: after the gap, back to 02:30"),
    .init("0 * * * *", "America/New_York", after: "2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00", "NY hourly over the gap"),
    .init(
        "0 * * * *", "America/New_York", after: "2026-03-08T03:00:00-04:00", "2026-03-08T04:00:00-04:00", "NY hourly: 02:00 and 03:00 are one instant"
    ),
    .init("30 1 * * *", "America/New_York", after: "2026-11-01T00:00:00-04:00", "2026-11-01T01:30:00-04:00", "NY fall overlap: first 01:30"),
    .init("30 1 * * *", "America/New_York", after: "2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00", "NY fall overlap: not the second 01:30"),
    .init("0 * * * *", "America/New_York", after: "2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00", "NY hourly fires in both passes"),
    .init("0 * * * *", "America/New_York", after: "2026-11-01T01:00:00-05:00", "2026-11-01T02:00:00-05:00", "NY hourly after the overlap"),
    // Europe/Berlin: 2026-03-29 02:00 CET → 03:00 CEST; 2026-10-25 03:00 CEST → 02:00 CET.
    .init("30 2 * * *", "Europe/Berlin", after: "2026-03-28T12:00:00+01:00", "2026-03-29T03:30:00+02:00", "Berlin spring gap"),
    .init("0 2 * * *", "Europe/Berlin", after: "2026-03-28T12:00:00+01:00", "2026-03-29T03:00:00+02:00", "Berlin: 02:00 itself is in the gap"),
    .init("30 2 * * *", "Europe/Berlin", after: "2026-10-24T12:00:00+02:00", "2026-10-25T02:30:00+02:00", "Berlin fall overlap: first 02:30"),
    .init("30 2 * * *", "Europe/Berlin", after: "2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00", "Berlin fall overlap: once"),
    .init("*/30 * * * *", "Europe/Berlin", after: "2026-10-25T02:30:00+02:00", "2026-10-25T02:00:00+01:00", "Berlin every 30 min: both passes"),
]

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
