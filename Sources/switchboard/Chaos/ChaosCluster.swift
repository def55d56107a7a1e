import Foundation
import Glibc
import Synchronization
import SwitchboardHTTP

/// The processes of a chaos run: `web`, `worker` (a supervisor with two children) and three `scheduler` replicas, each
/// logging to a file of its own in the run's folder.
final class ChaosCluster: Sendable {
    let webPort: Int
    let web: ChildProcess
    let worker: ChildProcess
    let schedulers: [ChildProcess]

    init(folder: String, redisURL: String, sinkPort: Int, schedules: String, webPort: Int) throws {
        self.webPort = webPort
        let env = [
            "REDIS_URL": redisURL, "SWITCHBOARD_WHATSAPP_BASE_URL": "http://127.0.0.1:\(sinkPort)", "PORT": String(webPort), "LOG_LEVEL": "info",
            // A send cut short by a kill waits this long for the provider's status before it is sent again (10 min in
            // production). The fake provider posts each status at once, but under the faults the status job can wait
            // half a minute in the ingest backlog; 20 s here resent a reply whose status was still queued.
            "SWITCHBOARD_SEND_UNCERTAIN_WAIT": "90s",
        ]
        let exe = try currentExecutablePath()
        web = try ChildProcess(executable: exe, arguments: ["web"], environment: env, outputPath: folder + "/web.log")
        worker = try ChildProcess(
            executable: exe,
            arguments: ["worker", "--queues", "ingest,pipeline,outbound,maintenance", "--processes", "2", "--concurrency", "8", "--lease", "5s"],
            environment: env, outputPath: folder + "/worker.log")
        schedulers = try (0..<3).map { n in
            try ChildProcess(
                executable: exe, arguments: ["scheduler", "--schedules", schedules], environment: env, outputPath: folder + "/scheduler-\(n).log")
        }
    }

    var all: [ChildProcess] { [web, worker] + schedulers }

    /// SIGTERM to every process; the worker hands its running jobs back within its grace.
    func stopAll() {
        for child in all {
            child.signal(SIGTERM)
            child.killIfStillRunning(after: .seconds(30))
        }
    }

    func waitForWeb(http: HTTPClient) async throws {
        for _ in 0..<300 {
            if let r = try? await http.execute(HTTPClient.Request(url: "http://127.0.0.1:\(webPort)/healthz", connectTimeout: .seconds(1))),
                r.status == 200
            {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ChaosError("web did not answer /healthz on port \(webPort) within 30 s")
    }
}

/// Injects the chosen faults while the replay runs: a worker child SIGKILLed every 2 s (until 4 s after the replay),
/// and the one-off faults at fixed fractions of the replay's expected length (Redis at 30 %, PostgreSQL at 50 %, a
/// scheduler replica at 60 %), each done once even when the replay ends first.
final class ChaosInjector: Sendable {
    struct Counts: Codable, Sendable {
        var workerKills = 0
        var redisRestarts = 0
        var postgresRestarts = 0
        var schedulerKills = 0
        var notes: [String] = []
    }

    let faults: Set<ChaosFault>
    let cluster: ChaosCluster
    let redis: ChaosRedis
    let quiet: Bool
    private let state = Mutex<(counts: Counts, finishedAt: ContinuousClock.Instant?)>((Counts(), nil))

    init(faults: Set<ChaosFault>, cluster: ChaosCluster, redis: ChaosRedis, quiet: Bool) {
        (self.faults, self.cluster, self.redis, self.quiet) = (faults, cluster, redis, quiet)
    }

    var counts: Counts { state.withLock { $0.counts } }

    func replayFinished() { state.withLock { $0.finishedAt = .now } }

    func run(expectedSeconds: Double) async {
        let start = ContinuousClock.now
        let plan: [(at: Double, fault: ChaosFault)] = [(0.3, .restartRedis), (0.5, .restartPostgres), (0.6, .killScheduler)]
        var pending = plan.filter { faults.contains($0.fault) }.map { (at: $0.at * expectedSeconds, fault: $0.fault) }
        var nextKill = start + .seconds(2)
        var victim = 0
        while true {
            let now = ContinuousClock.now
            let elapsed = Self.seconds(now - start)
            let finishedAt = state.withLock { $0.finishedAt }
            let killing = faults.contains(.killWorkers) && (finishedAt.map { now < $0 + .seconds(4) } ?? true)
            if killing, now >= nextKill {
                let children = childProcesses(of: cluster.worker.pid)
                if !children.isEmpty {
                    kill(children[victim % children.count], SIGKILL)
                    victim += 1
                    state.withLock { $0.counts.workerKills += 1 }
                }
                nextKill = nextKill + .seconds(2)
            }
            if let first = pending.first, elapsed >= first.at {
                pending.removeFirst()
                await inject(first.fault)
            }
            if finishedAt != nil, pending.isEmpty, !killing { return }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }

    func inject(_ fault: ChaosFault) async {
        say("fault: \(fault.rawValue)")
        switch fault {
        case .restartRedis:
            do {
                try await redis.restart(downFor: .seconds(1))
                state.withLock { $0.counts.redisRestarts += 1 }
            } catch { note("Redis did not restart: \(error)") }
        case .restartPostgres:
            let command = ProcessInfo.processInfo.environment["SWITCHBOARD_CHAOS_PG_RESTART"] ?? "false"
            do {
                let child = try ChildProcess(executable: "/bin/sh", arguments: ["-c", command])
                let status = await child.waitForExit()
                if status == 0 {
                    state.withLock { $0.counts.postgresRestarts += 1 }
                } else {
                    note("the PostgreSQL restart \(describeWaitStatus(status))")
                }
            } catch { note("the PostgreSQL restart did not start: \(error)") }
        case .killScheduler:
            cluster.schedulers[0].signal(SIGKILL)
            state.withLock { $0.counts.schedulerKills += 1 }
        case .killWorkers: break
        }
    }

    func note(_ text: String) {
        say(text)
        state.withLock { $0.counts.notes.append(text) }
    }

    func say(_ text: String) { if !quiet { print(text) } }

    static func seconds(_ d: Duration) -> Double {
        let (s, a) = d.components
        return Double(s) + Double(a) / 1e18
    }
}
