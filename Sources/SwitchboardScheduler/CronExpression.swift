/// A cron expression: five fields (minute hour day-of-month month day-of-week), or six with a leading seconds field.
///
/// Each field takes `*`, a value, a range `a-b`, a step `*/n`, `a-b/n` or `a/n`, and comma lists of these. Months
/// take `JAN`–`DEC` and weekdays `SUN`–`SAT` (any case); Sunday is 0 or 7. As in Vixie cron, when both day fields are
/// restricted a day matches if either does (`0 0 1 * MON`: the 1st and every Monday).
public struct CronExpression: Sendable, Hashable {
    /// Allowed values per field, as bit sets.
    let seconds: UInt64
    let minutes: UInt64
    let hours: UInt64
    let daysOfMonth: UInt64
    let months: UInt64
    let weekdays: UInt64
    let dayOfMonthRestricted: Bool
    let dayOfWeekRestricted: Bool
    /// The hour field is `*` (or `*/1`): in a fall-back overlap the repeated hour fires in both passes.
    let everyHour: Bool

    /// Parses `text`; the error names the field and says what is wrong.
    public init(_ text: String) throws(CronError) {
        var fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        switch fields.count {
        case 5: fields.insert("0", at: 0)
        case 6: break
        default:
            throw CronError(
                "\"\(text)\" has \(fields.count) fields; a cron expression has 5 (minute hour day-of-month month day-of-week) or 6 (with leading seconds)"
            )
        }
        seconds = try Self.field(fields[0], .second)
        minutes = try Self.field(fields[1], .minute)
        hours = try Self.field(fields[2], .hour)
        daysOfMonth = try Self.field(fields[3], .dayOfMonth)
        months = try Self.field(fields[4], .month)
        var days = try Self.field(fields[5], .dayOfWeek)
        if days & (1 << 7) != 0 { days = (days & ~(1 << 7)) | 1 }  // 7 is Sunday too
        weekdays = days
        dayOfMonthRestricted = !fields[3].hasPrefix("*")
        dayOfWeekRestricted = !fields[5].hasPrefix("*")
        everyHour = fields[2] == "*" || fields[2] == "*/1"
        if !Self.canEverMatch(daysOfMonth: daysOfMonth, months: months, eitherDay: dayOfMonthRestricted && dayOfWeekRestricted) {
            throw CronError("\"\(text)\" never fires: no month in it has the day of month it names")
        }
    }

    /// Does the wall-clock time match every field?
    func matches(_ t: CivilTime) -> Bool {
        months.has(t.month) && dayMatches(t) && hours.has(t.hour) && minutes.has(t.minute) && seconds.has(t.second)
    }

    func dayMatches(_ t: CivilTime) -> Bool {
        let dom = daysOfMonth.has(t.day), dow = weekdays.has(t.weekday)
        if dayOfMonthRestricted && dayOfWeekRestricted { return dom || dow }
        return dom && dow
    }

    /// The first wall-clock time (whole seconds, no time zone) strictly after `wall` that matches, searching up to
    /// ten years ahead (enough for Feb 29 across a skipped leap year); nil if none.
    func nextWall(after wall: Int64) -> Int64? {
        var t = wall + 1
        let limit = CivilTime(wall: wall).year + 10
        while true {
            let c = CivilTime(wall: t)
            if c.year > limit { return nil }
            if !months.has(c.month) {
                t = CivilTime.wall(year: c.month == 12 ? c.year + 1 : c.year, month: c.month == 12 ? 1 : c.month + 1, day: 1)
            } else if !dayMatches(c) {
                t = CivilTime.wall(year: c.year, month: c.month, day: c.day) + 86_400
            } else if !hours.has(c.hour) {
                t = t - Int64(c.minute * 60 + c.second) + 3600
            } else if !minutes.has(c.minute) {
                t = t - Int64(c.second) + 60
            } else if !seconds.has(c.second) {
                t += 1
            } else {
                return t
            }
        }
    }

    // MARK: - Parsing

    enum Field: String {
        case second, minute, hour
        case dayOfMonth = "day-of-month"
        case month
        case dayOfWeek = "day-of-week"

        var range: ClosedRange<Int> {
            switch self {
            case .second, .minute: 0...59
            case .hour: 0...23
            case .dayOfMonth: 1...31
            case .month: 1...12
            case .dayOfWeek: 0...7
            }
        }

        var names: [String] {
            switch self {
            case .month: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
            case .dayOfWeek: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
            default: []
            }
        }
    }

    static func field(_ text: String, _ field: Field) throws(CronError) -> UInt64 {
        func fail(_ why: String) -> CronError { CronError("\(field.rawValue) field \"\(text)\" \(why)") }
        var bits: UInt64 = 0
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { throw fail("has more than one '/' in \"\(item)\"") }
            var step = 1
            if parts.count == 2 {
                guard let s = Int(parts[1]), s > 0 else { throw fail("has step \"\(parts[1])\"; a step is a whole number of at least 1") }
                step = s
            }
            let base = parts[0]
            var low: Int, high: Int
            if base == "*" {
                (low, high) = (field.range.lowerBound, field == .dayOfWeek ? 6 : field.range.upperBound)
            } else {
                let ends = base.split(separator: "-", omittingEmptySubsequences: false)
                guard ends.count <= 2, let a = value(ends[0], field) else {
                    throw fail(
                        base.isEmpty ? "has an empty item" : "has \"\(base)\", which is not a number\(field.names.isEmpty ? "" : " or name") or range"
                    )
                }
                low = a
                if ends.count == 2 {
                    guard let b = value(ends[1], field) else {
                        throw fail("has \"\(ends[1])\", which is not a number\(field.names.isEmpty ? "" : " or name")")
                    }
                    high = b
                } else {
                    high = parts.count == 2 ? field.range.upperBound : a  // "a/n" means a to the end, every n
                }
                guard field.range.contains(low), field.range.contains(high) else {
                    throw fail("is out of range \(field.range.lowerBound)-\(field.range.upperBound)")
                }
                guard low <= high else { throw fail("has the backwards range \(low)-\(high)") }
            }
            for v in stride(from: low, through: high, by: step) { bits |= 1 << UInt64(v) }
        }
        return bits
    }

    private static func value(_ text: Substring, _ field: Field) -> Int? {
        if let n = Int(text) { return n }
        guard let i = field.names.firstIndex(of: text.uppercased()) else { return nil }
        return field == .month ? i + 1 : i
    }

    /// False when the day-of-month field names only days that none of the named months has (`30 2`, `31 4,6`).
    private static func canEverMatch(daysOfMonth: UInt64, months: UInt64, eitherDay: Bool) -> Bool {
        if eitherDay { return true }
        let longest = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return (1...12).contains { m in months.has(m) && (1...longest[m]).contains { daysOfMonth.has($0) } }
    }
}

/// What is wrong with a cron expression or schedule, in words for the person who wrote it.
public struct CronError: Error, Sendable, Hashable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension UInt64 {
    func has(_ value: Int) -> Bool { self & (1 << UInt64(value)) != 0 }
}
