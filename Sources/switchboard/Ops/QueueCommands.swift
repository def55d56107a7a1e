import ArgumentParser
import FoundationEssentials
import SwitchboardQueue
import SwitchboardRedis
import SwitchboardJSON

/// Options every ops command shares.
struct OpsOptions: ParsableArguments {
    @Flag(help: "Machine-readable JSON (shapes documented in README.md) instead of a table.") var json = false
}

/// Validates a queue name given on the command line (usage error, exit 2, when invalid).
func validateQueueName(_ queue: String) throws {
    do { try QueueKeys.validate(queue) } catch { throw ValidationError(error.message) }
}

/// Runs an ops action with a Redis client; Redis failures become one clear line and exit code 1.
func withOpsRedis<T>(_ body: (RedisClient) async throws -> T) async throws -> T {
    let settings = try Settings.fromEnvironment()
    _ = settings.bootstrapLogging()
    let redis = RedisClient(configuration: try settings.redisConfiguration(), maxConnections: 2)
    do {
        let result = try await body(redis)
        try await redis.shutdown()
        return result
    } catch let error as RedisError {
        try? await redis.shutdown()
        printError("error: \(error)")
        throw ExitCode(1)
    } catch {
        try? await redis.shutdown()
        throw error
    }
}

struct QueuesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queues",
        abstract: "Every queue: jobs by state, latency (age of the next job), processed and failed today (UTC), paused.",
        discussion: "Examples:\n  switchboard queues\n  switchboard queues --json | jq '.[] | select(.dead > 0)'")

    @OptionGroup var ops: OpsOptions

    func run() async throws {
        let stats = try await withOpsRedis { redis in
            let inspector = QueueInspector(redis: redis)
            var out: [QueueStats] = []
            for queue in try await inspector.queues() { out.append(try await inspector.stats(queue: queue)) }
            return out
        }
        if ops.json { return print(try jsonText(stats)) }
        print(
            Table(
                headers: ["QUEUE", "READY", "SCHEDULED", "ACTIVE", "RETRY", "DEAD", "LATENCY", "PROCESSED", "FAILED", "PAUSED", "OUTBOX"],
                rows: stats.map {
                    [
                        $0.queue, "\($0.ready)", "\($0.scheduled)", "\($0.active)", "\($0.retry)", "\($0.dead)",
                        DurationText.format(.milliseconds($0.latencyMs)), "\($0.processedToday)", "\($0.failedToday)", $0.paused ? "yes" : "no",
                        "\($0.outbox)",
                    ]
                }
            ).render())
    }
}

struct JobCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "job",
        abstract: "Everything about one job: parameters, state, attempts, lease holder, fencing token, error history.",
        discussion:
            "Exits 1 when no queue holds the job.\n\nExamples:\n  switchboard job 2ee5d708-cdea-4ea0-8b4c-7c6b12a36710\n  switchboard job 2ee5d708-cdea-4ea0-8b4c-7c6b12a36710 --json"
    )

    @Argument(help: "The job id (as enqueue printed it).") var id: String
    @Option(help: "The queue, if known (otherwise every queue is searched).") var queue: String?
    @OptionGroup var ops: OpsOptions

    /// The `--json` shape of one job.
    struct View: Encodable {
        let id, queue, name, state: String
        let attempt, maxAttempts: Int
        let fencingToken: Int64
        let leaseOwner: String?
        let uniqueKey: String?
        let parent: String?
        let timeoutMs: Int64
        let lock: String?
        let args: JSONValue?
        let errors: [JSONValue]
    }

    func run() async throws {
        let job = try await withOpsRedis { redis -> JobSnapshot? in
            let inspector = QueueInspector(redis: redis)
            var found = queue
            if found == nil { found = try await inspector.queue(of: id) }
            guard let queue = found else { return nil }
            return try await inspector.job(id, queue: queue)
        }
        guard let job else {
            printError(
                "error: no job \(id)\(queue.map { " in queue \($0)" } ?? " in any queue"); it may have finished (finished jobs are deleted unless done-retention is on)"
            )
            throw ExitCode(1)
        }
        let decoder = JSONDecoder()
        let view = View(
            id: job.id, queue: job.queue, name: job.name, state: job.state, attempt: job.attempt, maxAttempts: job.maxAttempts,
            fencingToken: job.fencingToken, leaseOwner: job.leaseOwner, uniqueKey: job.uniqueKey, parent: job.parent,
            timeoutMs: job.timeout.milliseconds, lock: job.lockKey, args: try? decoder.decode(JSONValue.self, from: Data(job.payload)),
            errors: (try? decoder.decode([JSONValue].self, from: Data((job.errorsJSON ?? "[]").utf8))) ?? [])
        if ops.json { return print(try jsonText(view)) }
        var rows: [[String]] = [
            ["id", job.id], ["queue", job.queue], ["name", job.name], ["state", job.state],
            ["attempt", "\(job.attempt) of \(job.maxAttempts)"], ["fencing token", "\(job.fencingToken)"],
            ["lease holder", job.leaseOwner ?? "-"], ["unique key", job.uniqueKey ?? "-"], ["parent", job.parent ?? "-"],
            ["timeout", DurationText.format(job.timeout)], ["lock", job.lockKey ?? "-"], ["args", String(decoding: job.payload, as: UTF8.self)],
        ]
        for (i, entry) in view.errors.enumerated() { rows.append([i == 0 ? "errors" : "", compactJSON(entry)]) }
        print(Table(headers: ["FIELD", "VALUE"], rows: rows).render())
    }
}

struct RetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Move dead jobs back to ready with a fresh attempt budget (their error history is kept).",
        discussion:
            "Exits 1 if any id was not a dead job.\n\nExamples:\n  switchboard retry 2ee5d708-cdea-4ea0-8b4c-7c6b12a36710\n  switchboard retry --all-dead --queue default"
    )

    @Argument(help: "Job ids.") var ids: [String] = []
    @Flag(help: "Every dead job (of --queue, or of every queue).") var allDead = false
    @Option(help: "The queue (faster; required to be right when given).") var queue: String?
    @OptionGroup var ops: OpsOptions

    func validate() throws {
        if ids.isEmpty != allDead { throw ValidationError("give job ids or --all-dead, not both and not neither") }
    }

    func run() async throws {
        try await steerDeadJobs(ids: ids, all: allDead, queue: queue, json: ops.json, verb: "retried") { inspector, id, queue in
            try await inspector.revive(id, queue: queue)
        }
    }
}

struct DiscardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "discard",
        abstract: "Delete dead jobs for good.",
        discussion: "Exits 1 if any id was not a dead job.\n\nExample:\n  switchboard discard 2ee5d708-cdea-4ea0-8b4c-7c6b12a36710")

    @Argument(help: "Job ids.") var ids: [String]
    @Option(help: "The queue (faster; required to be right when given).") var queue: String?
    @OptionGroup var ops: OpsOptions

    func run() async throws {
        try await steerDeadJobs(ids: ids, all: false, queue: queue, json: ops.json, verb: "discarded") { inspector, id, queue in
            try await inspector.discard(id, queue: queue)
        }
    }
}

/// Applies `action` to each dead job; prints what happened; exit 1 when any id was not a dead job.
/// `--json` shape: `{"done": [ids], "notDead": [ids]}`.
func steerDeadJobs(
    ids: [String], all: Bool, queue: String?, json: Bool, verb: String,
    _ action: @escaping (QueueInspector, String, String) async throws -> Bool
) async throws {
    struct Outcome: Encodable {
        var done: [String] = []
        var notDead: [String] = []
    }
    let outcome = try await withOpsRedis { redis -> Outcome in
        let inspector = QueueInspector(redis: redis)
        var outcome = Outcome()
        var targets: [(id: String, queue: String?)] = ids.map { ($0, queue) }
        if all {
            var names = queue.map { [$0] } ?? []
            if queue == nil { names = try await inspector.queues() }
            for q in names {
                let dead = try await redis.command(["ZRANGE", .string(QueueKeys(queue: q).dead), 0, -1]).array ?? []
                targets += dead.compactMap(\.string).map { ($0, q) }
            }
        }
        for target in targets {
            var q = target.queue
            if q == nil { q = try await inspector.queue(of: target.id) }
            guard let q, try await action(inspector, target.id, q) else {
                outcome.notDead.append(target.id)
                continue
            }
            outcome.done.append(target.id)
        }
        return outcome
    }
    if json {
        print(try jsonText(outcome))
    } else {
        for id in outcome.done { print("\(verb) \(id)") }
        for id in outcome.notDead { printError("not a dead job: \(id)") }
        if outcome.done.isEmpty && outcome.notDead.isEmpty { print("no dead jobs") }
    }
    if !outcome.notDead.isEmpty { throw ExitCode(1) }
}

struct WorkersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workers",
        abstract: "Worker processes from their heartbeats: pid, host, queues, busy slots, running jobs, heartbeat age; dead ones flagged.",
        discussion: "Examples:\n  switchboard workers\n  switchboard workers --json")

    @OptionGroup var ops: OpsOptions

    func run() async throws {
        let workers = try await withOpsRedis { try await QueueInspector(redis: $0).workers() }
        if ops.json { return print(try jsonText(workers)) }
        print(
            Table(
                headers: ["ID", "PID", "HOST", "QUEUES", "BUSY", "HEARTBEAT", "STATUS"],
                rows: workers.map {
                    [
                        $0.id, "\($0.pid)", $0.host, $0.queues.joined(separator: ","), "\($0.busy)/\($0.concurrency)",
                        DurationText.format(.milliseconds($0.heartbeatAgeMs)) + " ago", $0.dead ? "DEAD" : "alive",
                    ]
                }
            ).render())
    }
}

private func compactJSON(_ value: JSONValue) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? "?"
}
