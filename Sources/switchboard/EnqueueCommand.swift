import ArgumentParser
import FoundationEssentials
import SwitchboardQueue
import SwitchboardRedis
import SwitchboardJSON

struct EnqueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enqueue",
        abstract: "Enqueue jobs by name and print their ids, one per line.",
        discussion: """
            Built-in jobs every worker runs: noop {}, sleep {"ms":250}, fail {"times":2}, probe {"ms":50,"set":"name"},
            chain {"set":"name","steps":3,"fanout":1,"next_queue":"q"} (see the README).
            --count N enqueues N copies in one round trip. With --unique, every copy is a separate duplicate check
            (pipelined): the first creates the job and every copy prints its id.

            Examples:
              switchboard enqueue noop
              switchboard enqueue sleep --args '{"ms": 3000}' --queue default --in 5s
              switchboard enqueue probe --args '{"ms": 50, "set": "probe:run1"}' --count 5000
              switchboard enqueue fail --args '{"times": 99}' --max-attempts 3
              switchboard enqueue sleep --args '{"ms": 500}' --lock conversation:42 --count 5
              switchboard enqueue noop --debounce conversation:42 --window 4s --max-wait 20s
              switchboard enqueue sleep --args '{"ms": 500}' --concurrency-key tenant:7 --concurrency-limit 3 --count 10
              switchboard enqueue chain --args '{"set": "chain:run1", "steps": 3, "fanout": 2, "next_queue": "low"}'
            """)

    @Argument(help: "The job's name (noop, sleep, fail, probe, or a pipeline job).")
    var name: String
    @Option(help: "The job's parameters as a JSON object.")
    var args: String = "{}"
    @Option(help: "The queue (default: the job type's own queue, or `default` for a name this build has no type for).")
    var queue: String?
    @Option(name: .customLong("in"), help: "Run no earlier than this from now (e.g. 500ms, 5s, 2m).")
    var delay: String?
    @Option(help: "A unique key: while a job with it is queued or running, enqueueing again returns that job's id.")
    var unique: String?
    @Option(help: "queued, active (default) or idempotent: how long the unique key holds.")
    var uniqueMode: String = "active"
    @Option(help: "Run under this distributed lock: one job holding it at a time; the others wait without using attempts.")
    var lock: String?
    @Option(help: "Run at most --concurrency-limit jobs with this key at once; the others wait without using attempts.")
    var concurrencyKey: String?
    @Option(help: "With --concurrency-key: how many may run at once.")
    var concurrencyLimit: Int = 1
    @Option(help: "Debounce key: enqueues with one key within --window of each other become one job, run with the last --args.")
    var debounce: String?
    @Flag(help: "With --debounce: the job also gets every enqueue's --args of its burst (JobContext.collected).")
    var collect = false
    @Option(help: "With --debounce: how long the key must be quiet before the job runs.")
    var window: String = "1s"
    @Option(help: "With --debounce: the longest a burst can hold the job back from its first enqueue.")
    var maxWait: String = "10s"
    @Option(help: "Attempts in all, the first included.")
    var maxAttempts: Int?
    @Option(help: "Soft timeout of each attempt (e.g. 30s).")
    var timeout: String?
    @Option(help: "How many copies to enqueue.")
    var count: Int = 1

    func validate() throws {
        guard (try? JSONDecoder().decode([String: JSONValue].self, from: Data(args.utf8))) != nil else {
            throw ValidationError("--args must be a JSON object, such as '{\"ms\": 250}'")
        }
        guard count >= 1, count <= 1_000_000 else { throw ValidationError("--count must be between 1 and 1000000") }
        guard UniqueMode(rawValue: uniqueMode) != nil else { throw ValidationError("--unique-mode must be queued, active or idempotent") }
        if let maxAttempts, maxAttempts < 1 { throw ValidationError("--max-attempts must be at least 1") }
        if let lock {
            do { try QueueKeys.validateTag(lock, what: "--lock") } catch { throw ValidationError(error.message) }
        }
        if let concurrencyKey {
            do { try ConcurrencyLimit(key: concurrencyKey, limit: concurrencyLimit).validate() } catch {
                throw ValidationError("--concurrency-key and --concurrency-limit: \(error.message)")
            }
        }
        if let queue { try validateQueueName(queue) }
        if collect && debounce == nil { throw ValidationError("--collect needs --debounce") }
        if debounce != nil && (unique != nil || delay != nil || count != 1) {
            throw ValidationError("--debounce cannot be combined with --unique, --in or --count")
        }
        do throws(QueueError) {
            if let delay { _ = try DurationText.parse(delay) }
            if let timeout { _ = try DurationText.parse(timeout) }
            if debounce != nil {
                let (w, m) = (try DurationText.parse(window), try DurationText.parse(maxWait))
                guard w > .zero, m >= w else { throw QueueError(.invalidOptions, "--window must be above zero and --max-wait at least --window") }
            }
        } catch { throw ValidationError(error.message) }
    }

    func run() async throws {
        let settings = try Settings.fromEnvironment()
        _ = settings.bootstrapLogging()
        let redis = RedisClient(configuration: try settings.redisConfiguration(), maxConnections: 1)
        var options = JobOptions(queue: queue, lock: lock, concurrency: concurrencyKey.map { ConcurrencyLimit(key: $0, limit: concurrencyLimit) })
        if let debounce {
            options.debounce = DebounceOptions(
                key: debounce, window: try DurationText.parse(window), maxWait: try DurationText.parse(maxWait), collect: collect)
        }
        if let delay { options.delay = try DurationText.parse(delay) }
        if let timeout { options.timeout = try DurationText.parse(timeout) }
        if let maxAttempts { options.retryPolicy = RetryPolicy(maxAttempts: maxAttempts) }
        if let unique { options.unique = UniqueOptions(key: unique, mode: UniqueMode(rawValue: uniqueMode)!) }
        let payload = Array(args.utf8)
        // The same resolution as a typed enqueue: the job type's queue, timeout, retry policy, lock and limits.
        let job: JobQueue.NewJob
        do {
            job = try JobQueue.NewJob(name: name, payload: payload, options: options, among: knownJobTypes(redis: redis))
        } catch {
            try? await redis.shutdown()
            printError("error: nothing was enqueued: --args: \(error.message)")
            throw ExitCode(2)
        }
        if !job.typed { printError("note: this build has no job type named \(name); its options are the library defaults and yours") }
        do {
            let ids = try await JobQueue(redis: redis).enqueue(jobs: Array(repeating: job, count: count))
            try await redis.shutdown()
            print(ids.joined(separator: "\n"))
        } catch let error as RedisError {
            try? await redis.shutdown()
            printError("error: nothing was enqueued: \(error)")
            throw ExitCode(1)
        }
    }
}
