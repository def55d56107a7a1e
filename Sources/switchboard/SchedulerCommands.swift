import ArgumentParser
import FoundationEssentials
import FoundationInternationalization
import Logging
import ServiceLifecycle
import SwitchboardQueue
import SwitchboardRedis
import SwitchboardScheduler
import UnixSignals

/// `--schedules DIR`, shared by `scheduler` and `schedules`.
struct ScheduleOptions: ParsableArguments {
    @Option(help: "The folder of schedule files (*.yml). Default: $SCHEDULES_DIR, else Schedules.") var schedules: String?

    /// Loads and checks every entry; an invalid file is one line naming the file, the entry and the fault, exit 78.
    func load(_ settings: Settings, redis: RedisClient) throws -> [ScheduleEntry] {
        let known = knownJobNames(redis: redis)
        do {
            return try ScheduleLoader.load(directory: schedules ?? settings.schedulesDirectory, knownJobs: known)
        } catch {
            printError("error: \(error)")
            throw ExitCode(78)  // EX_CONFIG: a supervisor should not restart into the same error
        }
    }
}

struct SchedulerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler",
        abstract: "Run a scheduler replica: fire the cron tables in Schedules/ as jobs. Run as many replicas as you like.",
        discussion: """
            One replica holds a leader lease (3 s, renewed every second) and fires; the others wait for it. Each tick
            is enqueued exactly once whichever replica fires it. An invalid schedule file stops start-up with exit 78
            and a line naming the file, the entry and what is wrong. SIGTERM releases the lease at once.

            Examples:
              switchboard scheduler
              switchboard scheduler --schedules /etc/switchboard/schedules
            """)

    @OptionGroup var options: ScheduleOptions
    @Option(help: "Replicas of one group share a leader; give each set of schedule files its own group.") var group: String = "default"

    func validate() throws {
        do { try TickSeries.validate(name: group) } catch { throw ValidationError("--group: \(error.message)") }
    }

    func run() async throws {
        let settings = try Settings.fromEnvironment()
        let logger = settings.bootstrapLogging()
        let redis = RedisClient(configuration: try settings.redisConfiguration(), maxConnections: 2)
        try await withClients([redis]) {
            let entries = try options.load(settings, redis: redis)
            if entries.isEmpty { logger.warning("no schedule entries found; the scheduler has nothing to fire") }
            var schedulerOptions = Scheduler.Options()
            schedulerOptions.group = group
            let scheduler = Scheduler(
                redis: redis, entries: entries, options: schedulerOptions, jobTypes: knownJobTypes(redis: redis), logger: logger)
            let group = ServiceGroup(services: [scheduler], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
            try await group.run()
        }
    }
}

struct SchedulesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedules",
        abstract: "List schedule entries with their last and next fire times, in their time zone and in UTC.",
        discussion: "Examples:\n  switchboard schedules\n  switchboard schedules --json")

    @OptionGroup var options: ScheduleOptions
    @OptionGroup var ops: OpsOptions

    /// The `--json` shape of one entry.
    struct View: Encodable {
        let name, cron, timezone, job, queue, missed, file: String
        let lastFireMs, nextFireMs: Int64?
        let lastFireUTC, lastFireLocal, nextFireUTC, nextFireLocal: String?
        let fired: Int64
    }

    func run() async throws {
        let settings = try Settings.fromEnvironment()
        let views = try await withOpsRedis { redis -> [View] in
            let entries = try options.load(settings, redis: redis)
            var out: [View] = []
            for entry in entries {
                let record = try await TickSeries(redis: redis, queue: entry.queue, name: entry.name).record()
                let next = entry.nextFire(after: max(record.cursor ?? 0, Int64(Date().timeIntervalSince1970 * 1000)))
                let last = record.lastFiredTick
                out.append(
                    View(
                        name: entry.name, cron: entry.spec, timezone: entry.timeZoneName, job: entry.jobName, queue: entry.queue,
                        missed: entry.missed.rawValue, file: entry.file, lastFireMs: last, nextFireMs: next,
                        lastFireUTC: last.map { formatUTC(Self.date($0)) }, lastFireLocal: last.map { formatLocal(ms: $0, entry) },
                        nextFireUTC: next.map { formatUTC(Self.date($0)) }, nextFireLocal: next.map { formatLocal(ms: $0, entry) },
                        fired: record.fired))
            }
            return out
        }
        if ops.json { return print(try jsonText(views)) }
        print(
            Table(
                headers: ["ENTRY", "CRON", "TIME ZONE", "JOB", "QUEUE", "MISSED", "LAST FIRE (LOCAL / UTC)", "NEXT FIRE (LOCAL / UTC)"],
                rows: views.map {
                    [
                        $0.name, $0.cron, $0.timezone, $0.job, $0.queue, $0.missed,
                        Self.both($0.lastFireLocal, $0.lastFireUTC), Self.both($0.nextFireLocal, $0.nextFireUTC),
                    ]
                }
            ).render())
    }
}

extension SchedulesCommand {
    static func date(_ ms: Int64) -> Date { Date(timeIntervalSince1970: Double(ms) / 1000) }

    static func both(_ local: String?, _ utc: String?) -> String {
        guard let local, let utc else { return "never" }
        return local.hasSuffix(" UTC") || local.hasSuffix(" GMT") ? local : "\(local) / \(utc) UTC"
    }
}

/// `2026-03-08 03:30:00 EDT` for a Unix ms instant on `zone`'s wall clock.
func formatLocal(ms: Int64, _ entry: ScheduleEntry) -> String {
    let zone = entry.timeZone
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = zone
    let date = Date(timeIntervalSince1970: Double(ms) / 1000)
    let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
    func two(_ v: Int?) -> String {
        let n = v ?? 0
        return n < 10 ? "0\(n)" : "\(n)"
    }
    let abbreviation = zone.secondsFromGMT(for: date) == 0 && entry.timeZoneName == "UTC" ? "UTC" : zone.abbreviation(for: date) ?? entry.timeZoneName
    return "\(c.year ?? 0)-\(two(c.month))-\(two(c.day)) \(two(c.hour)):\(two(c.minute)):\(two(c.second)) \(abbreviation)"
}
