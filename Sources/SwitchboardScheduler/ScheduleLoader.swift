import Foundation
import SwitchboardQueue
import Yams

/// Reads cron tables: every `*.yml` / `*.yaml` file of a folder, each a mapping from entry name to entry.
///
/// ```yaml
/// queue-check:                 # entry name: letters, digits, - _ . ; unique across all files
///   cron: "*/10 * * * *"       # required: 5 or 6 fields, a macro, or "@every 30s"
///   job: queue-check           # required: a job name the workers know
///   queue: maintenance         # default: default
///   timezone: Europe/Berlin    # IANA name; default: UTC
///   args: {}                   # the job's parameters; default: {}
///   missed: skip               # skip | one | all; default: skip
///   grace: 60s                 # a tick later than this is missed; default: 60s
///   max_attempts: 3            # default: the queue's default retry policy
/// ```
public enum ScheduleLoader {
    static let knownKeys = ["cron", "job", "queue", "timezone", "args", "missed", "grace", "max_attempts"]

    /// Loads every entry of `directory`. `knownJobs`, when given, is the set of job names an entry may name.
    public static func load(directory: String, knownJobs: Set<String>? = nil) throws(ScheduleError) -> [ScheduleEntry] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ScheduleError(file: directory, entry: nil, "is not a folder; pass the folder of schedule files with --schedules DIR")
        }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".yml") || $0.hasSuffix(".yaml") }.sorted()
        var entries: [ScheduleEntry] = []
        for name in names {
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw ScheduleError(file: path, entry: nil, "cannot be read as UTF-8 text")
            }
            for entry in try parse(text, file: path, knownJobs: knownJobs) {
                if let other = entries.first(where: { $0.name == entry.name }) {
                    throw ScheduleError(file: path, entry: entry.name, "is also defined in \(other.file); entry names must be unique")
                }
                entries.append(entry)
            }
        }
        return entries
    }

    /// Parses one file's text (`file` names it in errors).
    public static func parse(_ text: String, file: String, knownJobs: Set<String>? = nil) throws(ScheduleError) -> [ScheduleEntry] {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw ScheduleError(file: file, entry: nil, "is not valid YAML: \(error)")
        }
        guard let root else { return [] }  // an empty file (or only comments)
        guard let mapping = root.mapping else {
            throw ScheduleError(file: file, entry: nil, "must be a mapping from entry names to entries (see Schedules/README.md)")
        }
        var entries: [ScheduleEntry] = []
        for (key, value) in mapping {
            guard let name = key.scalar?.string else { throw ScheduleError(file: file, entry: nil, "has an entry name that is not text") }
            entries.append(try entry(name, value, file: file, knownJobs: knownJobs))
        }
        return entries
    }

    private static func entry(_ name: String, _ node: Node, file: String, knownJobs: Set<String>?) throws(ScheduleError) -> ScheduleEntry {
        func fail(_ message: String) -> ScheduleError { ScheduleError(file: file, entry: name, message) }
        guard let fields = node.mapping else { throw fail("must be a mapping with at least cron and job") }
        for key in fields.keys {
            let k = key.scalar?.string ?? "?"
            if !knownKeys.contains(k) { throw fail("has the unknown key \"\(k)\"; known keys: \(knownKeys.joined(separator: ", "))") }
        }
        func text(_ key: String) throws(ScheduleError) -> String? {
            guard let v = fields[key] else { return nil }
            guard let s = v.scalar?.string, !s.isEmpty else { throw fail("\(key) must be a non-empty text value") }
            return s
        }
        guard let spec = try text("cron") else { throw fail("needs cron (for example \"*/5 * * * *\" or \"@every 30s\")") }
        guard let jobName = try text("job") else { throw fail("needs job: the name of the job to enqueue") }
        if let knownJobs, !knownJobs.contains(jobName) {
            throw fail("job \"\(jobName)\" is not a job the workers know; known: \(knownJobs.sorted().joined(separator: ", "))")
        }
        let schedule: CronSchedule
        do { schedule = try CronSchedule(spec) } catch { throw fail(error.message) }
        let zoneName = try text("timezone") ?? "UTC"
        guard let zone = TimeZone(identifier: zoneName) else {
            throw fail("timezone \"\(zoneName)\" is not an IANA time zone name (such as UTC, Europe/Berlin, America/New_York)")
        }
        let queue = try text("queue") ?? "default"
        do { try QueueKeys.validate(queue) } catch { throw fail(error.message) }
        var missed = MissedTickPolicy.skip
        if let m = try text("missed") {
            guard let policy = MissedTickPolicy(rawValue: m) else { throw fail("missed \"\(m)\" must be skip, one or all") }
            missed = policy
        }
        var grace = Duration.seconds(60)
        if let g = try text("grace") {
            guard let parsed = try? DurationText.parse(g), parsed >= .zero else { throw fail("grace \"\(g)\" is not a duration such as 30s or 5m") }
            grace = parsed
        }
        var retry: RetryPolicy? = nil
        if let a = try text("max_attempts") {
            guard let n = Int(a), n >= 1 else { throw fail("max_attempts \"\(a)\" must be a whole number of at least 1") }
            var policy = RetryPolicy.default
            policy.maxAttempts = n
            retry = policy
        }
        var payload: [UInt8] = Array("{}".utf8)
        if let args = fields["args"] {
            let object: Any
            do { object = try json(args) } catch { throw fail("args: \(error.message)") }
            guard object is [String: Any] else { throw fail("args must be a mapping of the job's parameters") }
            guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else {
                throw fail("args cannot be written as JSON")
            }
            payload = Array(data)
        }
        do { try TickSeries.validate(name: name) } catch { throw fail(error.message) }
        return ScheduleEntry(
            name: name, spec: spec, schedule: schedule, timeZone: zone, jobName: jobName, payload: payload, queue: queue, missed: missed,
            grace: grace, retryPolicy: retry, file: file, timeZoneName: zoneName)
    }

    /// A YAML value as a JSON-serializable object, with YAML's types (null, booleans, numbers, text).
    private static func json(_ node: Node) throws(CronError) -> Any {
        switch node {
        case .scalar(let scalar):
            switch Tag.Name(rawValue: node.tag.description) {
            case Tag.Name.null: return NSNull()
            case Tag.Name.bool: return node.bool ?? scalar.string
            case Tag.Name.int: return node.int ?? scalar.string
            case Tag.Name.float:
                guard let d = node.float, d.isFinite else { throw CronError("\"\(scalar.string)\" is not a finite number") }
                return d
            default: return scalar.string
            }
        case .mapping(let mapping):
            var out: [String: Any] = [:]
            for (k, v) in mapping {
                guard let key = k.scalar?.string else { throw CronError("a key is not text") }
                out[key] = try json(v)
            }
            return out
        case .sequence(let sequence):
            var out: [Any] = []
            for v in sequence { out.append(try json(v)) }
            return out
        case .alias:
            throw CronError("YAML aliases are not supported; write the value out")
        }
    }
}

/// A schedule file that cannot be used, naming the file, the entry and what is wrong.
public struct ScheduleError: Error, Sendable, CustomStringConvertible {
    public let file: String
    public let entry: String?
    public let message: String

    public init(file: String, entry: String?, _ message: String) {
        self.file = file
        self.entry = entry
        self.message = message
    }

    public var description: String {
        entry.map { "\(file): entry \"\($0)\": \(message)" } ?? "\(file): \(message)"
    }
}
