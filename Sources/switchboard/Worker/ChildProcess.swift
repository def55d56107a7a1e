import FoundationEssentials
import Glibc
import Synchronization
import SwitchboardProcess

/// A child process started with a clean signal state (``spawnWithCleanSignals(_:outputPath:environment:)``), waited
/// for on a thread of its own.
final class ChildProcess: Sendable {
    let pid: pid_t
    /// Set once `waitpid` has reaped it. Boxed in a class: with a `Mutex` stored in `ChildProcess` itself, Swift 6.3's
    /// release optimiser inlined this class's deinit where the last reference ends and crashed on its own ownership
    /// check (in `WorkerSupervisor` and `bench pipeline`).
    private let exitStatus = ExitStatusBox()

    init(executable: String, arguments: [String], environment: [String: String] = [:], outputPath: String? = nil) throws {
        do {
            pid = try spawnWithCleanSignals([executable] + arguments, outputPath: outputPath, environment: environment)
        } catch {
            throw SupervisorError(error.description)
        }
    }

    /// Waits (on a dedicated thread, never the cooperative pool) for the child to exit; returns its raw wait status.
    func waitForExit() async -> Int32 {
        await withCheckedContinuation { continuation in
            let pid = self.pid
            detachThread {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                self.exitStatus.value.withLock { $0 = status }
                continuation.resume(returning: status)
            }
        }
    }

    var hasExited: Bool { exitStatus.value.withLock { $0 != nil } }

    func signal(_ signal: Int32) {
        if !hasExited { kill(pid, signal) }
    }

    /// SIGKILLs the child if it is still running after `delay` (an escalation that needs no task).
    func killIfStillRunning(after delay: Duration) {
        detachThread {
            let (s, a) = delay.components
            var ts = timespec(tv_sec: Int(s), tv_nsec: Int(a / 1_000_000_000))
            var rest = timespec()
            while nanosleep(&ts, &rest) != 0 && errno == EINTR { ts = rest }
            self.signal(SIGKILL)
        }
    }
}

/// "exited with status 1", "killed by signal 9".
func describeWaitStatus(_ status: Int32) -> String {
    let signal = status & 0x7f
    if signal == 0 { return "exited with status \((status >> 8) & 0xff)" }
    return "killed by signal \(signal)"
}

struct SupervisorError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs `body` on a new detached pthread (for blocking waits that must not occupy the cooperative pool).
func detachThread(_ body: @escaping @Sendable () -> Void) {
    final class Box: Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let context = Unmanaged.passRetained(Box(body)).toOpaque()
    var thread = pthread_t()
    let rc = pthread_create(
        &thread, nil,
        { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, context)
    precondition(rc == 0, "pthread_create failed: \(rc)")
    pthread_detach(thread)
}

/// ``ChildProcess``'s exit status, once known.
private final class ExitStatusBox: Sendable {
    let value = Mutex<Int32?>(nil)
}
