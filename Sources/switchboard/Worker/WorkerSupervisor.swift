import FoundationEssentials
import Glibc
import Logging
import ServiceLifecycle

/// The prefork worker's parent: keeps `processes` children running, each a `switchboard worker --child` with the
/// same options. A crashed child is restarted with backoff (1 s doubling to 30 s, reset after a minute of health).
/// On graceful shutdown it forwards SIGTERM, waits for the children to drain, and SIGKILLs any still alive
/// 15 s after their grace period.
struct WorkerSupervisor: Service {
    let executable: String
    let childArguments: [String]
    let processes: Int
    let grace: Duration
    let logger: Logger

    func run() async throws {
        await withDiscardingTaskGroup { group in
            for slot in 0..<processes {
                group.addTask { await self.supervise(slot: slot) }
            }
        }
        logger.info("all worker processes stopped")
    }

    private func supervise(slot: Int) async {
        var backoff = Duration.seconds(1)
        while !isShuttingDown {
            let child: ChildProcess
            do {
                child = try ChildProcess(executable: executable, arguments: childArguments)
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
                logger.info("worker process stopped", metadata: ["slot": "\(slot)", "pid": "\(child.pid)", "status": "\(describeWaitStatus(status))"])
                return
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
