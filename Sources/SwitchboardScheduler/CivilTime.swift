/// A wall-clock date and time without a time zone, from "wall seconds": seconds since 1970-01-01 00:00:00 of that
/// wall clock (the same arithmetic as Unix time, applied to local readings). Proleptic Gregorian calendar, using
/// Howard Hinnant's days-from-civil algorithms, so cron arithmetic needs no Calendar and no locale.
struct CivilTime: Sendable, Hashable {
    let year, month, day: Int
    let hour, minute, second: Int
    /// 0 = Sunday … 6 = Saturday.
    let weekday: Int

    init(wall: Int64) {
        let days = wall.floorDiv(86_400)
        let secs = Int(wall - days * 86_400)
        (year, month, day) = Self.civil(fromDays: days)
        hour = secs / 3600
        minute = secs / 60 % 60
        second = secs % 60
        weekday = Int((days + 4).floorMod(7))  // 1970-01-01 was a Thursday
    }

    /// Wall seconds of midnight starting the given day.
    static func wall(year: Int, month: Int, day: Int) -> Int64 {
        days(fromCivil: year, month, day) * 86_400
    }

    /// Wall seconds of the given date and time.
    static func wall(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int = 0) -> Int64 {
        wall(year: year, month: month, day: day) + Int64(hour * 3600 + minute * 60 + second)
    }

    static func days(fromCivil year: Int, _ month: Int, _ day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = y.floorDiv(400)
        let yoe = y - era * 400
        let mp = Int64((month + 9) % 12)
        let doy = (153 * mp + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays days: Int64) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = z.floorDiv(146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = Int(doy - (153 * mp + 2) / 5 + 1)
        let m = Int(mp < 10 ? mp + 3 : mp - 9)
        let y = Int(yoe + era * 400) + (m <= 2 ? 1 : 0)
        return (y, m, d)
    }
}

extension Int64 {
    func floorDiv(_ d: Int64) -> Int64 { self >= 0 ? self / d : -((-self + d - 1) / d) }
    func floorMod(_ d: Int64) -> Int64 { self - floorDiv(d) * d }
}
