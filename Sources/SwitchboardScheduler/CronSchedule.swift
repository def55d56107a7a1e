public import FoundationEssentials
import FoundationInternationalization
import SwitchboardQueue

/// When an entry fires: a cron expression read on a time zone's wall clock, or a fixed interval.
///
/// Time-zone changes: a wall time that a spring-forward skips fires once, at the same distance after the change
/// (02:30 on a day that jumps from 02:00 to 03:00 fires at 03:30); a wall time that a fall-back repeats fires once,
/// at its first occurrence, unless the hour field is `*`, in which case the repeated hour fires in both passes (an
/// hourly job stays hourly). `@every` intervals are counted from the Unix epoch in UTC (`@every 30s` fires at :00
/// and :30 of every minute), so every replica computes the same ticks.
public enum CronSchedule: Sendable, Hashable {
    case cron(CronExpression)
    case every(Duration)

    /// Parses a cron expression, a macro (`@yearly`/`@annually`, `@monthly`, `@weekly`, `@daily`/`@midnight`,
    /// `@hourly`) or `@every <duration>` (`@every 30s`, `@every 1h30m`).
    public init(_ text: String) throws(CronError) {
        let trimmed = text.trimmingSpaces
        let macros = [
            "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
            "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
        ]
        if let expansion = macros[trimmed.lowercased()] {
            self = .cron(try CronExpression(expansion))
        } else if trimmed.lowercased().hasPrefix("@every") {
            let spec = String(trimmed.dropFirst(6)).trimmingSpaces
            guard let interval = try? DurationText.parse(spec), interval >= .seconds(1) else {
                throw CronError("\"\(text)\": @every needs a duration of at least 1s, such as @every 30s or @every 1h30m")
            }
            guard interval.milliseconds % 1000 == 0 else {
                throw CronError("\"\(text)\": @every takes whole seconds")
            }
            self = .every(interval)
        } else if trimmed.hasPrefix("@") {
            throw CronError("\"\(text)\" is not a known macro; use @yearly, @monthly, @weekly, @daily, @hourly or @every <duration>")
        } else {
            self = .cron(try CronExpression(trimmed))
        }
    }

    /// The first fire time strictly after `after` (Unix ms), reading the cron fields on `zone`'s wall clock.
    /// Nil when the expression never fires again within ten years.
    public func nextFire(after: Int64, in zone: TimeZone) -> Int64? {
        switch self {
        case .every(let interval):
            let step = interval.milliseconds
            return (after.floorDiv(step) + 1) * step
        case .cron(let expression):
            return Self.nextCronFire(expression, after: after, zone: zone)
        }
    }

    private static func nextCronFire(_ cron: CronExpression, after: Int64, zone: TimeZone) -> Int64? {
        let t = after.floorDiv(1000)  // fire times are whole seconds; the answer is the first one > after
        let offset = { (instant: Int64) -> Int64 in Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(instant)))) }
        // Near a time-zone change the wall clock is not monotonic: look back and ahead by the size of the change.
        let here = offset(t)
        let shift = max(abs(offset(t - 86_400) - here), abs(offset(t + 86_400) - here))
        var wall = t + here - shift
        var best: Int64? = nil
        for _ in 0..<100_000 {
            guard let next = cron.nextWall(after: wall) else { break }
            if let b = best, next > b + offset(b) + shift { break }
            for instant in instants(ofWall: next, cron: cron, offset: offset) where instant > t {
                best = min(best ?? instant, instant)
            }
            wall = next
            if best != nil && shift == 0 { break }
        }
        return best.map { $0 * 1000 }
    }

    /// The instants at which a wall time occurs: one normally, two in a fall-back overlap (the second only for an
    /// every-hour expression), and for a wall time skipped by a spring-forward, the instant as far past the change
    /// as the wall time is past its start.
    private static func instants(ofWall wall: Int64, cron: CronExpression, offset: (Int64) -> Int64) -> [Int64] {
        let before = offset(wall - 86_400), after = offset(wall + 86_400)
        var found = Set([before, after]).map { wall - $0 }.filter { offset($0) == wall - $0 }.sorted()
        if found.isEmpty { return [wall - before] }  // in a gap: read with the offset in force before the change
        if found.count > 1 && !cron.everyHour { found = [found[0]] }
        return found
    }
}

extension String {
    var trimmingSpaces: String {
        String(self.drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}
