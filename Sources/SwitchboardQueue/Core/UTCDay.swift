import FoundationEssentials

/// `yyyymmdd` in UTC, the suffix of the per-day counters.
func utcDay(_ date: Date = Date()) -> String {
    date.formatted(.iso8601.year().month().day().dateSeparator(.omitted))
}

/// Milliseconds since 1970 on this machine's clock.
func nowMilliseconds() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

/// Microseconds since 1970 on this machine's clock.
public func nowMicroseconds() -> Int64 { Int64(Date().timeIntervalSince1970 * 1_000_000) }
