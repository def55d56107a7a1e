import SwitchboardProcess
import Foundation
import Glibc
import Synchronization
import SwitchboardRedis

/// The faults of the chaos run.
enum ChaosFault: String, CaseIterable, Codable, Sendable {
    /// (a) SIGKILL a worker child process every 2 s while the conversations are replayed.
    case killWorkers = "kill-workers"
    /// (b) Redis stopped once with SHUTDOWN (the AOF flushed) and started again on the same files.
    case restartRedis = "restart-redis"
    /// (c) PostgreSQL restarted once with a fast shutdown (`$SWITCHBOARD_CHAOS_PG_RESTART`).
    case restartPostgres = "restart-postgres"
    /// (d) one scheduler replica of three SIGKILLed.
    case killScheduler = "kill-scheduler"
}

/// A redis-server of the chaos run's own (AOF on, fsync every second, as production runs it), so a SHUTDOWN and
/// restart touch nothing else.
final class ChaosRedis: Sendable {
    let port: Int
    let dir: String
    let executable: String
    private let child = Mutex<ChildProcess?>(nil)

    init(dir: String) throws {
        guard let executable = findExecutable("redis-server") else {
            throw ChaosError("redis-server is not on PATH; install it (scripts/services install)")
        }
        self.executable = executable
        self.port = try freeLoopbackPort()
        self.dir = dir
    }

    var url: String { "redis://127.0.0.1:\(port)/0" }

    func start() async throws {
        let process = try ChildProcess(
            executable: executable,
            arguments: [
                "--bind", "127.0.0.1", "--port", String(port), "--dir", dir, "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
                "--maxmemory-policy", "noeviction", "--logfile", dir + "/redis.log",
            ])
        child.withLock { $0 = process }
        for _ in 0..<100 {
            if (try? await ping()) == true { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ChaosError("redis-server did not answer on port \(port); see \(dir)/redis.log")
    }

    func ping() async throws -> Bool {
        let redis = RedisClient(configuration: try RedisConfiguration(url: url), maxConnections: 1)
        let pong = try? await redis.command(["PING"]).string
        try? await redis.shutdown()
        return pong == "PONG"
    }

    /// SHUTDOWN (Redis flushes the AOF and exits), then the same server again on the same files.
    func restart(downFor pause: Duration) async throws {
        let redis = RedisClient(configuration: try RedisConfiguration(url: url), maxConnections: 1)
        _ = try? await redis.command(["SHUTDOWN"])
        try? await redis.shutdown()
        if let process = child.withLock({ $0 }) { _ = await process.waitForExit() }
        try await Task.sleep(for: pause)
        try await start()
    }

    func stop() async {
        guard let process = child.withLock({ $0 }) else { return }
        process.signal(SIGTERM)
        _ = await process.waitForExit()
    }
}

/// The worker supervisor's children (the processes that run jobs), from /proc.
func childProcesses(of parent: pid_t) -> [pid_t] {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
    var out: [pid_t] = []
    for entry in entries {
        guard let pid = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8) else { continue }
        // pid (comm) state ppid …: comm may hold spaces, so read after its closing parenthesis.
        guard let close = stat.lastIndex(of: ")") else { continue }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        if fields.count > 1, pid_t(fields[1]) == parent { out.append(pid) }
    }
    return out.sorted()
}

/// The first `name` on PATH that is executable.
func findExecutable(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
    let dirs: [String] = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/local/sbin"]
    for dir in dirs {
        let candidate = "\(dir)/\(name)"
        if access(candidate, X_OK) == 0 { return candidate }
    }
    return nil
}

/// A chaos run that cannot start or whose checks failed.
struct ChaosError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
