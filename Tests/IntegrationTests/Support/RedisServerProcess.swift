import Foundation
import SwitchboardProcess

/// A private redis-server on a free loopback port, for tests that stop, restart or reconfigure the server
/// (the shared one from scripts/services must stay up for every other test). Starting and stopping wait
/// on a plain thread: blocking the two cooperative threads here once deadlocked the whole suite.
final class RedisServerProcess: @unchecked Sendable {
    // @unchecked: mutated only by the owning test, sequentially.
    let port: Int
    private let extraArguments: [String]
    private var pid: pid_t?

    init(extraArguments: [String] = []) async throws {
        self.port = try freeLoopbackPort()
        self.extraArguments = extraArguments
        try await start()
    }

    deinit { if let pid { kill(pid, SIGKILL) } }

    /// Starts the server on its port and waits until it accepts connections.
    func start() async throws {
        let arguments =
            [try redisServerPath(), "--bind", "127.0.0.1", "--port", String(port), "--save", "", "--appendonly", "no", "--logfile", "/dev/null"]
            + extraArguments
        pid = try spawnWithCleanSignals(arguments)
        let port = self.port
        let up = try await onPlainThread { () -> Bool in
            for _ in 0..<250 {
                if canConnect(port: port) { return true }
                usleep(20_000)
            }
            return false
        }
        guard up else {
            throw NSError(domain: "RedisServerProcess", code: 1, userInfo: [NSLocalizedDescriptionKey: "redis-server did not start on port \(port)"])
        }
    }

    /// Stops the server (SIGTERM) and waits for it to exit.
    func stop() async {
        guard let pid else { return }
        self.pid = nil
        kill(pid, SIGTERM)
        await onPlainThread {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
    }

    var url: String { "redis://127.0.0.1:\(port)/0" }

    /// Sends the server a signal (SIGSTOP to pause it, SIGCONT to resume).
    func signal(_ signal: Int32) {
        if let pid { kill(pid, signal) }
    }
}

private func redisServerPath() throws -> String {
    for dir in ["/usr/bin", "/usr/local/bin", "/usr/sbin"] where FileManager.default.isExecutableFile(atPath: "\(dir)/redis-server") {
        return "\(dir)/redis-server"
    }
    throw NSError(domain: "RedisServerProcess", code: 2, userInfo: [NSLocalizedDescriptionKey: "redis-server not found; run scripts/services start"])
}

func canConnect(port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = UInt16(port).bigEndian
    return withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
}

/// Runs blocking work on a new thread and resumes the caller when it is done.
func onPlainThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}

func onPlainThread(_ body: @escaping @Sendable () -> Void) async {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread {
            body()
            continuation.resume()
        }
    }
}

/// Waits for a spawned child on a plain thread; returns its exit code, or 128 + signal.
func waitForChild(_ pid: pid_t) async -> Int32 {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            let signal = status & 0x7f
            continuation.resume(returning: signal == 0 ? (status >> 8) & 0xff : 128 + signal)
        }
    }
}
