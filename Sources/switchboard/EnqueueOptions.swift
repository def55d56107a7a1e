import ArgumentParser
import SwitchboardQueue

/// `enqueue --unique`: the duplicate check.
struct UniqueCLIOptions: ParsableArguments {
    @Option(help: "A unique key: while a job with it is queued or running, enqueueing again returns that job's id.") var unique: String?
    @Option(help: "queued, active (default) or idempotent: how long the unique key holds.") var uniqueMode: String = "active"

    func validate() throws {
        guard UniqueMode(rawValue: uniqueMode) != nil else { throw ValidationError("--unique-mode must be queued, active or idempotent") }
    }

    var resolved: UniqueOptions? { unique.map { UniqueOptions(key: $0, mode: UniqueMode(rawValue: uniqueMode) ?? .whileActive) } }
}

/// `enqueue --lock` and `--concurrency-key`: jobs that wait for each other without using attempts.
struct LimitCLIOptions: ParsableArguments {
    @Option(help: "Run under this distributed lock: one job holding it at a time; the others wait without using attempts.") var lock: String?
    @Option(help: "Run at most --concurrency-limit jobs with this key at once; the others wait without using attempts.") var concurrencyKey: String?
    @Option(help: "With --concurrency-key: how many may run at once.") var concurrencyLimit: Int = 1

    func validate() throws {
        if let lock {
            do { try QueueKeys.validateTag(lock, what: "--lock") } catch { throw ValidationError(error.message) }
        }
        do { try concurrency?.validate() } catch { throw ValidationError("--concurrency-key and --concurrency-limit: \(error.message)") }
    }

    var concurrency: ConcurrencyLimit? { concurrencyKey.map { ConcurrencyLimit(key: $0, limit: concurrencyLimit) } }
}

/// `enqueue --debounce`: a burst of enqueues with one key becomes one job.
struct DebounceCLIOptions: ParsableArguments {
    @Option(help: "Debounce key: enqueues with one key within --window of each other become one job, run with the last --args.") var debounce: String?
    @Flag(help: "With --debounce: the job also gets every enqueue's --args of its burst (JobContext.collected).") var collect = false
    @Option(help: "With --debounce: how long the key must be quiet before the job runs.") var window: String = "1s"
    @Option(help: "With --debounce: the longest a burst can hold the job back from its first enqueue.") var maxWait: String = "10s"

    func validate() throws {
        if collect && debounce == nil { throw ValidationError("--collect needs --debounce") }
        do { _ = try resolved } catch { throw ValidationError(error.message) }
    }

    var resolved: DebounceOptions? {
        get throws(QueueError) {
            guard let debounce else { return nil }
            let (w, m) = (try DurationText.parse(window), try DurationText.parse(maxWait))
            guard w > .zero, m >= w else { throw QueueError(.invalidOptions, "--window must be above zero and --max-wait at least --window") }
            return DebounceOptions(key: debounce, window: w, maxWait: m, collect: collect)
        }
    }
}
