import ArgumentParser
import FoundationEssentials
import Glibc
import SwitchboardQueue
import SwitchboardRedis
import Synchronization

struct TopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top",
        abstract: "A live view of queues (sizes, jobs/s, latency) and workers, redrawn in place; q or Ctrl-C quits.",
        discussion: """
            On a terminal it redraws every --interval; anywhere else it prints one snapshot and exits.
            Queues that are empty and idle are left out (their number is shown); dead workers are not listed.

            Examples:
              switchboard top
              switchboard top --interval 2s
            """)

    @Option(help: "How often to refresh (e.g. 1s, 500ms).") var interval: String = "1s"

    func validate() throws {
        do {
            let d = try DurationText.parse(interval)
            guard d >= .milliseconds(200) else { throw ValidationError("--interval must be at least 200ms") }
        } catch let error as QueueError { throw ValidationError(error.message) }
    }

    func run() async throws {
        let period = try DurationText.parse(interval)
        let interactive = isatty(STDOUT_FILENO) == 1 && isatty(STDIN_FILENO) == 1
        try await withOpsRedis { redis in
            let inspector = QueueInspector(redis: redis)
            guard interactive else {
                print(try await Self.screen(inspector, previous: [:], elapsed: period).text)
                return
            }
            let terminal = RawTerminal()
            defer { terminal.restore() }
            var previous: [String: Int64] = [:]
            var last = ContinuousClock.now
            while true {
                let now = ContinuousClock.now
                let frame = try await Self.screen(inspector, previous: previous, elapsed: now - last)
                previous = frame.processed
                last = now
                print("\u{1B}[H\u{1B}[2J" + frame.text.replacing("\n", with: "\r\n") + "\r\n\r\nq or Ctrl-C to quit", terminator: "")
                fflush(nil)
                if await terminal.waitForQuit(upTo: period) { break }
            }
        }
    }

    /// One frame: queues with jobs/s since the last frame, then workers.
    static func screen(_ inspector: QueueInspector, previous: [String: Int64], elapsed: Duration) async throws -> (
        text: String, processed: [String: Int64]
    ) {
        var processed: [String: Int64] = [:]
        var rows: [[String]] = []
        var hidden = 0
        for queue in try await inspector.queues() {
            let s = try await inspector.stats(queue: queue)
            processed[queue] = s.processedToday
            let rate = previous[queue].map { max(0, Double(s.processedToday - $0) / max(0.001, elapsed.seconds)) }
            // Empty, idle queues would push the ones that matter off the screen.
            if s.ready + s.scheduled + s.active + s.retry + s.dead == 0 && (rate ?? 0) == 0 && !s.paused {
                hidden += 1
                continue
            }
            rows.append([
                queue, "\(s.ready)", "\(s.scheduled)", "\(s.active)", "\(s.retry)", "\(s.dead)",
                rate.map { String(Int($0.rounded())) } ?? "-", DurationText.format(.milliseconds(s.latencyMs)), s.paused ? "paused" : "",
            ])
        }
        let workers = try await inspector.workers().filter { !$0.dead }
        let queuesTable = Table(headers: ["QUEUE", "READY", "SCHED", "ACTIVE", "RETRY", "DEAD", "JOBS/S", "LATENCY", ""], rows: rows).render()
        let workersTable = Table(
            headers: ["WORKER", "PID", "QUEUES", "BUSY", "HEARTBEAT"],
            rows: workers.map {
                [
                    $0.id, "\($0.pid)", $0.queues.joined(separator: ","), "\($0.busy)/\($0.concurrency)",
                    DurationText.format(.milliseconds($0.heartbeatAgeMs)) + " ago",
                ]
            }
        ).render()
        let note = hidden > 0 ? "\n(\(hidden) empty idle queues not shown)" : ""
        return ("switchboard top\n\n" + queuesTable + note + "\n\n" + workersTable, processed)
    }
}

/// The terminal in raw mode (no echo, no line buffering, Ctrl-C arrives as a byte) until ``restore()``.
final class RawTerminal: Sendable {
    private let saved: Mutex<termios?>

    init() {
        var original = termios()
        if tcgetattr(STDIN_FILENO, &original) == 0 {
            var raw = original
            raw.c_lflag &= ~tcflag_t(ICANON | ECHO | ISIG)
            tcsetattr(STDIN_FILENO, TCSANOW, &raw)
            saved = Mutex(original)
        } else {
            saved = Mutex(nil)
        }
        print("\u{1B}[?25l", terminator: "")  // hide the cursor
    }

    func restore() {
        saved.withLock { original in
            if var o = original { tcsetattr(STDIN_FILENO, TCSANOW, &o) }
            original = nil
        }
        print("\u{1B}[?25h")
        fflush(nil)
    }

    /// Waits up to `duration` for a key on a plain thread; true for q, Q or Ctrl-C.
    func waitForQuit(upTo duration: Duration) async -> Bool {
        await withCheckedContinuation { continuation in
            detachThread {
                var p = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
                var quit = false
                if poll(&p, 1, Int32(duration.milliseconds)) > 0 {
                    var byte: UInt8 = 0
                    if read(STDIN_FILENO, &byte, 1) == 1 { quit = byte == UInt8(ascii: "q") || byte == UInt8(ascii: "Q") || byte == 3 }
                }
                continuation.resume(returning: quit)
            }
        }
    }
}
