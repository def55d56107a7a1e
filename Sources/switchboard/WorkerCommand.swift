import ArgumentParser

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run a worker process (the job pool arrives with the queue core; it now starts, checks Redis and waits).",
        discussion: "Example:\n  switchboard worker")

    func run() async throws {
        do { try await runIdleProcess(role: "worker") } catch is ExitCodeError { throw ExitCode(1) }
    }
}

struct SchedulerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler",
        abstract: "Run a scheduler replica (cron tables arrive with the scheduler; it now starts, checks Redis and waits).",
        discussion: "Example:\n  switchboard scheduler")

    func run() async throws {
        do { try await runIdleProcess(role: "scheduler") } catch is ExitCodeError { throw ExitCode(1) }
    }
}
