import FoundationEssentials
import Glibc
import Logging
import ServiceLifecycle
import SwitchboardEmbedding

/// The prefork worker's parent: keeps `processes` children running, each a `switchboard worker --child` with the
/// same options. A crashed child is restarted with backoff (1 s doubling to 30 s, reset after a minute of health).
/// On graceful shutdown it forwards SIGTERM, waits for the children to drain, and SIGKILLs any still alive
/// 15 s after their grace period.
struct WorkerSupervisor: Service {
    let executable: String
    /// The arguments of the child in a slot (its index is among them).
    let childArguments: @Sendable (Int) -> [String]
    let processes: Int
    let grace: Duration
    let logger: Logger

    /// Variables added to the children's environment where none is configured: OpenBLAS's kernel set for this CPU
    /// (Debian's OpenBLAS picks its oldest kernels on CPUs it does not know; see BLASCore), and one OpenBLAS thread
    /// (the encoder runs its products on the calling thread anyway; unset, OpenBLAS starts a pool per core at load,
    /// whose threads spin for ~75 ms in each new process).
    var childEnvironment: [String: String] {
        let configured = ProcessInfo.processInfo.environment
        var added: [String: String] = [:]
        if configured["OPENBLAS_CORETYPE"] == nil, let core = BLASCore.recommended() { added["OPENBLAS_CORETYPE"] = core }
        if configured["OPENBLAS_NUM_THREADS"] == nil { added["OPENBLAS_NUM_THREADS"] = "1" }
        return added
    }

    func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            for slot in 0..<processes {
                group.addTask { try await self.supervise(slot: slot) }
            }
        }
        logger.info("all worker processes stopped")
    }

    /// Keeps one child running. A child that exits with a usage or configuration error (2, 78) would fail the same
    /// way forever, so that stops the supervisor with an error instead of a restart loop.
    private func supervise(slot: Int) async throws {
        var backoff = Duration.seconds(1)
        while !isShuttingDown {
            let child: ChildProcess
            do {
                child = try ChildProcess(executable: executable, arguments: childArguments(slot), environment: childEnvironment)
            } catch {
                logger.error("cannot start worker process", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(30))
                continue
            }
            logger.info("worker process started", metadata: ["slot": "\(slot)", "pid": "\(child.pid)"])
            let started = ContinuousClock.now
            let status = await withGracefulShutdownHandler {
                await child.waitForExit()
            } onGracefulShutdown: {
                child.signal(SIGTERM)
                child.killIfStillRunning(after: grace + .seconds(15))
            }
            if isShuttingDown {
                logger.info(
                    "worker process stopped", metadata: ["slot": "\(slot)", "pid": "\(child.pid)", "status": "\(describeWaitStatus(status))"])
                return
            }
            let exitCode = (status & 0x7f) == 0 ? (status >> 8) & 0xff : -1
            if exitCode == 2 || exitCode == 78 {
                logger.error(
                    "worker process cannot start (bad options or configuration); not restarting",
                    metadata: ["slot": "\(slot)", "status": "\(describeWaitStatus(status))"])
                throw SupervisorError("worker process exited with status \(exitCode): fix the options or configuration printed above")
            }
            if ContinuousClock.now - started > .seconds(60) { backoff = .seconds(1) }
            logger.warning(
                "worker process died; restarting",
                metadata: ["slot": "\(slot)", "pid": "\(child.pid)", "status": "\(describeWaitStatus(status))", "restart.in": "\(backoff)"])
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(30))
        }
    }

    private var isShuttingDown: Bool { Task.isShuttingDownGracefully || Task.isCancelled }
}
