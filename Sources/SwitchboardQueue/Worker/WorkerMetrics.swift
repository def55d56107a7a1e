import CoreMetrics
import Metrics
import Synchronization

/// The worker's metrics through swift-metrics (whatever backend the process bootstrapped; the `switchboard worker`
/// children use Prometheus). Labels are low-cardinality only: queue, job name, outcome — never ids.
///
/// | metric | type | labels |
/// |---|---|---|
/// | `switchboard_jobs_total` | counter | queue, name, outcome (completed, retry, dead, handed_back, stale, lost) |
/// | `switchboard_job_duration_seconds` | timer (histogram) | queue, name |
/// | `switchboard_job_pickup_latency_seconds` | timer (histogram) | queue — from ready to started |
/// | `switchboard_jobs_running` | gauge | — |
final class WorkerMetrics: Sendable {
    /// A metric's label values as a cache key (no string concatenated and allocated per job).
    private struct Labels: Hashable {
        let queue: String
        let name: String
        var outcome: String = ""
    }

    private let counters = Mutex<[Labels: Counter]>([:])
    private let durations = Mutex<[Labels: Metrics.Timer]>([:])
    private let pickups = Mutex<[String: Metrics.Timer]>([:])
    private let running = Gauge(label: "switchboard_jobs_running")

    func setRunning(_ count: Int) { running.record(count) }

    func finished(queue: String, name: String, outcome: String) {
        let key = Labels(queue: queue, name: name, outcome: outcome)
        let counter = counters.withLock { c in
            if let hit = c[key] { return hit }
            let made = Counter(label: "switchboard_jobs_total", dimensions: [("queue", queue), ("name", name), ("outcome", outcome)])
            c[key] = made
            return made
        }
        counter.increment()
    }

    func ran(queue: String, name: String, for duration: Duration) {
        let key = Labels(queue: queue, name: name)
        let timer = durations.withLock { c in
            if let hit = c[key] { return hit }
            let made = Metrics.Timer(label: "switchboard_job_duration_seconds", dimensions: [("queue", queue), ("name", name)])
            c[key] = made
            return made
        }
        timer.recordNanoseconds(nanoseconds(duration))
    }

    func pickedUp(queue: String, afterMilliseconds ms: Int64) {
        let timer = pickups.withLock { c in
            if let hit = c[queue] { return hit }
            let made = Metrics.Timer(label: "switchboard_job_pickup_latency_seconds", dimensions: [("queue", queue)])
            c[queue] = made
            return made
        }
        timer.recordMilliseconds(max(0, ms))
    }

    private func nanoseconds(_ d: Duration) -> Int64 {
        let (s, a) = d.components
        return s * 1_000_000_000 + a / 1_000_000_000
    }
}
