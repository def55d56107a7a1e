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

    @Argument(help: "The job's name (noop, sleep, fail, probe, or a pipeline job).") var name: String
    @Option(help: "The job's parameters as a JSON object.") var args: String = "{}"
    @Option(help: "The queue (default: the job type's own queue, or `default` for a name this build has no type for).") var queue: String?
    @Option(name: .customLong("in"), help: "Run no earlier than this from now (e.g. 500ms, 5s, 2m).") var delay: String?
    @Option(help: "Attempts in all, the first included.") var maxAttempts: Int?
    @Option(help: "Soft timeout of each attempt (e.g. 30s).") var timeout: String?
    @Option(help: "How many copies to enqueue.") var count: Int = 1
    @OptionGroup(title: "Unique jobs") var uniqueness: UniqueCLIOptions
    @OptionGroup(title: "Locks and limits") var limits: LimitCLIOptions
    @OptionGroup(title: "Debouncing") var debouncing: DebounceCLIOptions

    func validate() throws {
        guard (try? JSONDecoder().decode([String: JSONValue].self, from: Data(args.utf8))) != nil else {
            throw ValidationError("--args must be a JSON object, such as '{\"ms\": 250}'")
        }
        guard count >= 1, count <= 1_000_000 else { throw ValidationError("--count must be between 1 and 1000000") }
        if let maxAttempts, maxAttempts < 1 { throw ValidationError("--max-attempts must be at least 1") }
        if let queue { try validateQueueName(queue) }
        if debouncing.debounce != nil && (uniqueness.unique != nil || delay != nil || count != 1) {
            throw ValidationError("--debounce cannot be combined with --unique, --in or --count")
        }
        do throws(QueueError) {
            if let delay { _ = try DurationText.parse(delay) }
            if let timeout { _ = try DurationText.parse(timeout) }
        } catch { throw ValidationError(error.message) }
    }

    func run() async throws {
        let settings = try Settings.fromEnvironment()
        _ = settings.bootstrapLogging()
        let redis = RedisClient(configuration: try settings.redisConfiguration(), maxConnections: 1)
        var options = JobOptions(queue: queue, lock: limits.lock, concurrency: limits.concurrency)
        options.debounce = try debouncing.resolved
        options.unique = uniqueness.resolved
        if let delay { options.delay = try DurationText.parse(delay) }
        if let timeout { options.timeout = try DurationText.parse(timeout) }
        if let maxAttempts { options.retryPolicy = RetryPolicy(maxAttempts: maxAttempts) }
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
