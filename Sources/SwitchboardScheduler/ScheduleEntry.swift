public import FoundationEssentials
public import SwitchboardQueue

/// One line of a cron table: when, in which time zone, and which job to enqueue on which queue.
public struct ScheduleEntry: Sendable, Hashable {
    /// Unique across all schedule files; part of every tick's job id (`<name>@<tick ms>`).
    public let name: String
    /// The schedule as written (`*/5 * * * *`, `@every 30s`).
    public let spec: String
    public let schedule: CronSchedule
    public let timeZone: TimeZone
    /// The time zone as written (`UTC`, `Europe/Berlin`).
    public let timeZoneName: String
    public let jobName: String
    /// The job's parameters, as JSON.
    public let payload: [UInt8]
    public let queue: String
    public let missed: MissedTickPolicy
    /// A tick late by no more than this still fires as a normal tick (a replica taking over from a dead leader, a
    /// slow start); a tick later than this is missed and the policy decides. Default 60 s.
    public let grace: Duration
    public let retryPolicy: RetryPolicy?
    /// The file the entry came from, for messages.
    public let file: String

    public init(
        name: String, spec: String, schedule: CronSchedule, timeZone: TimeZone, jobName: String, payload: [UInt8], queue: String,
        missed: MissedTickPolicy = .skip, grace: Duration = .seconds(60), retryPolicy: RetryPolicy? = nil, file: String = "",
        timeZoneName: String? = nil
    ) {
        self.timeZoneName = timeZoneName ?? timeZone.identifier
        self.name = name
        self.spec = spec
        self.schedule = schedule
        self.timeZone = timeZone
        self.jobName = jobName
        self.payload = payload
        self.queue = queue
        self.missed = missed
        self.grace = grace
        self.retryPolicy = retryPolicy
        self.file = file
    }

    /// The first tick strictly after `after` (Unix ms).
    public func nextFire(after: Int64) -> Int64? { schedule.nextFire(after: after, in: timeZone) }

    /// What to fire at `now`, given the last tick already handled (`cursor`, Unix ms; nil: the entry is new and
    /// starts from now). Ticks later than ``grace`` are missed: `skip` fires none of them, `one` fires the newest,
    /// `all` fires each, at most ``MissedTickPolicy/catchUpLimit`` (the newest ones). Ticks older than
    /// ``MissedTickPolicy/lookBack`` are never looked at. A pure function: tested without a clock or Redis.
    public func plan(cursor: Int64?, now: Int64) -> TickPlan {
        guard let cursor else { return TickPlan(fire: [], advanceTo: now) }
        var t = max(cursor, now - MissedTickPolicy.lookBack.milliseconds)
        var overdue: [Int64] = []  // the newest catchUpLimit of them
        var overdueCount = 0
        var late: [Int64] = []
        while let next = nextFire(after: t), next <= now {
            if now - next > grace.milliseconds {
                overdue.append(next)
                overdueCount += 1
                if overdue.count > 2 * MissedTickPolicy.catchUpLimit { overdue.removeFirst(MissedTickPolicy.catchUpLimit) }
            } else {
                late.append(next)
            }
            t = next
        }
        let caughtUp: [Int64]
        switch missed {
        case .skip: caughtUp = []
        case .one: caughtUp = overdue.suffix(1)
        case .all: caughtUp = Array(overdue.suffix(MissedTickPolicy.catchUpLimit))
        }
        return TickPlan(fire: caughtUp + late, advanceTo: max(t, cursor), missed: overdueCount)
    }
}

/// What happens to ticks that passed while no scheduler ran (more than the entry's grace ago).
public enum MissedTickPolicy: String, Sendable, Hashable, CaseIterable {
    /// Fire none of them; only future ticks (the default).
    case skip
    /// Fire one catch-up run now, for the newest missed tick.
    case one
    /// Fire every missed tick, the newest ``catchUpLimit`` at most.
    case all

    /// At most this many missed ticks fire under `all`.
    public static let catchUpLimit = 100
    /// Ticks further back than this are not looked at (a scheduler down for weeks does not walk every minute).
    public static let lookBack = Duration.seconds(7 * 86_400)
}

/// The ticks to enqueue now, and how far the entry's cursor moves.
public struct TickPlan: Sendable, Hashable {
    /// Ticks to enqueue, oldest first (Unix ms).
    public var fire: [Int64]
    /// The cursor after this step: the newest tick handled, fired or skipped.
    public var advanceTo: Int64
    /// How many ticks were missed (older than the grace), whatever the policy did with them.
    public var missed: Int = 0
}
