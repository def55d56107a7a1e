import Synchronization

/// One breaker per provider, in this process: after `failureThreshold` consecutive failures the provider's calls are
/// refused at once for `coolDown`; then one call is let through (half-open) — its success closes the breaker, its
/// failure opens it again. A dead provider costs a few calls their timeout, not every call.
public final class CircuitBreaker: Sendable {
    enum State: Sendable {
        case closed(failures: Int)
        case open(until: ContinuousClock.Instant)
        case halfOpen
    }

    public let failureThreshold: Int
    public let coolDown: Duration
    private let states = Mutex<[String: State]>([:])

    public init(failureThreshold: Int = 5, coolDown: Duration = .seconds(30)) {
        precondition(failureThreshold >= 1)
        (self.failureThreshold, self.coolDown) = (failureThreshold, coolDown)
    }

    /// Whether a call to `provider` may go out now.
    public func allows(_ provider: String) -> Bool {
        states.withLock { states in
            switch states[provider] ?? .closed(failures: 0) {
            case .closed: return true
            case .halfOpen: return false
            case .open(let until):
                guard ContinuousClock.now >= until else { return false }
                states[provider] = .halfOpen
                return true
            }
        }
    }

    /// Records the outcome of a call that went out.
    public func record(_ provider: String, success: Bool) {
        states.withLock { states in
            if success {
                states[provider] = .closed(failures: 0)
                return
            }
            switch states[provider] ?? .closed(failures: 0) {
            case .closed(let failures):
                states[provider] = failures + 1 >= failureThreshold ? .open(until: .now + coolDown) : .closed(failures: failures + 1)
            case .halfOpen, .open:
                states[provider] = .open(until: .now + coolDown)
            }
        }
    }

    /// "closed", "open" or "half-open", for status output.
    public func state(of provider: String) -> String {
        states.withLock { states in
            switch states[provider] ?? .closed(failures: 0) {
            case .closed: "closed"
            case .open(let until): ContinuousClock.now >= until ? "half-open" : "open"
            case .halfOpen: "half-open"
            }
        }
    }
}
