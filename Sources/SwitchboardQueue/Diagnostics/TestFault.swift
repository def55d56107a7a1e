import Glibc

/// For tests: makes a worker process SIGKILL itself (or stall) at one point of the successor relay, the first time it gets
/// there, so a test can prove that a crash between completing a job and relaying its successors neither loses nor
/// doubles them. "Once" is a marker file created with O_EXCL: a restarted process finds it and carries on.
/// `switchboard worker` reads it from `SWITCHBOARD_TEST_FAULT=<point>:<marker path>`.
public struct TestFault: Sendable {
    public enum Point: String, Sendable {
        /// After the handler succeeded (its writes are done), before its completion and successors are stored: the
        /// job runs again, and its successors must still be created once.
        case beforeComplete = "before-complete"
        /// After `complete.lua` stored the successors in the outbox, before relaying them.
        case afterComplete = "after-complete"
        /// After relaying them, before acknowledging them in the outbox.
        case afterRelay = "after-relay"
        /// In `send-message`: after the provider answered a send, before the answer is recorded. The message went out
        /// and nothing says so but the provider.
        case afterSend = "after-send"
        /// In `decide-turn`: after composing, before the fenced write, the process stalls (``stall(_:for:)``) instead
        /// of dying, so a test can SIGSTOP it there past its lease.
        case stallDecide = "stall-decide"
    }

    public let point: Point
    public let marker: String

    /// Parses `<point>:<marker path>`; nil when it is not one.
    public init?(_ text: String) {
        guard let colon = text.firstIndex(of: ":"), let point = Point(rawValue: String(text[..<colon])) else { return nil }
        self.point = point
        self.marker = String(text[text.index(after: colon)...])
        guard !marker.isEmpty else { return nil }
    }

    /// Waits `duration` (cancellation does not cut it short) if `reached` is the fault's point and it has not fired yet.
    public func stall(_ reached: Point, for duration: Duration) async {
        guard reached == point else { return }
        let fd = open(marker, O_CREAT | O_EXCL | O_WRONLY, 0o644)
        guard fd >= 0 else { return }
        close(fd)
        await Task.detached { try? await Task.sleep(for: duration) }.value
    }

    /// SIGKILLs this process if `reached` is the fault's point and it has not fired yet.
    public func hit(_ reached: Point) {
        guard reached == point else { return }
        let fd = open(marker, O_CREAT | O_EXCL | O_WRONLY, 0o644)
        guard fd >= 0 else { return }
        close(fd)
        kill(getpid(), SIGKILL)
    }
}
