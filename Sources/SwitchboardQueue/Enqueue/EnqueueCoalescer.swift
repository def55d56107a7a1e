import DequeModule
import Synchronization

/// Group commit for ``JobQueue``'s one-job enqueues, with no task of its own and no added wait.
///
/// A caller that finds a free slot (fewer than `maxInFlight` round trips out) sends its job at once, the ordinary way.
/// A caller that finds every slot busy waits in line. When a round trip ends, its sender hands the slot to the first
/// caller in line together with everyone behind it (up to `maxJobsPerTrip` jobs), and that caller sends them all in
/// one pipeline. So a lone producer pays one round trip per job as before, while many concurrent producers (requests of
/// a web app, tasks of a Swift service) share round trips without asking for a batch.
///
/// Jobs are checked and given their ids by each caller before they join a trip, so one caller's bad options never fail
/// another's jobs; a Redis error reply fails only the jobs of the script call it answered.
final class EnqueueCoalescer: Sendable {
    /// What a waiting caller is woken with: its jobs' outcome, or the slot and the trip to send.
    enum Turn: Sendable {
        case done([Result<String, any Error>])
        case send([Waiter])
    }

    struct Waiter: Sendable {
        let jobs: [JobQueue.PreparedJob]
        let continuation: CheckedContinuation<Turn, Never>
    }

    private struct State: ~Copyable {
        var inFlight = 0
        var line: Deque<Waiter> = []
    }

    let maxInFlight: Int
    let maxJobsPerTrip: Int
    private let state = Mutex(State())

    init(maxInFlight: Int = 2, maxJobsPerTrip: Int = 1000) {
        precondition(maxInFlight > 0 && maxJobsPerTrip > 0)
        self.maxInFlight = maxInFlight
        self.maxJobsPerTrip = maxJobsPerTrip
    }

    /// Enqueues `jobs` (already prepared) with the next round trip `send` makes; returns each job's id or error.
    /// Throws only what `send` throws for the whole trip (a lost connection: the jobs may or may not be stored).
    func submit(
        _ jobs: [JobQueue.PreparedJob], send: @escaping @Sendable ([JobQueue.PreparedJob]) async throws -> [Result<String, any Error>]
    ) async throws -> [String] {
        let leads = state.withLock { s -> Bool in
            guard s.inFlight < maxInFlight, s.line.isEmpty else { return false }
            s.inFlight += 1
            return true
        }
        let outcome: [Result<String, any Error>]
        if leads {
            outcome = try await trip(mine: jobs, others: [], send: send)
        } else {
            let turn = await withCheckedContinuation { continuation in
                // The slot may have come free between the two locks: then this caller leads after all.
                let leadsNow = state.withLock { s -> Bool in
                    if s.inFlight < maxInFlight && s.line.isEmpty {
                        s.inFlight += 1
                        return true
                    }
                    s.line.append(Waiter(jobs: jobs, continuation: continuation))
                    return false
                }
                if leadsNow { continuation.resume(returning: .send([])) }
            }
            switch turn {
            case .done(let results): outcome = results
            case .send(let others): outcome = try await trip(mine: jobs, others: others, send: send)
            }
        }
        return try outcome.map { try $0.get() }
    }

    /// Sends `mine` and the jobs of `others` in one round trip, answers `others`, passes the slot on, and returns
    /// the outcome of `mine`.
    private func trip(
        mine: [JobQueue.PreparedJob], others: [Waiter],
        send: @Sendable ([JobQueue.PreparedJob]) async throws -> [Result<String, any Error>]
    ) async throws -> [Result<String, any Error>] {
        let result: Result<[Result<String, any Error>], any Error>
        do {
            result = .success(try await send(mine + others.flatMap(\.jobs)))
        } catch {
            result = .failure(error)
        }
        var offset = mine.count
        for waiter in others {
            let n = waiter.jobs.count
            switch result {
            case .success(let all): waiter.continuation.resume(returning: .done(Array(all[offset..<offset + n])))
            case .failure(let error): waiter.continuation.resume(returning: .done(Array(repeating: .failure(error), count: n)))
            }
            offset += n
        }
        passSlot()
        return try result.get().prefix(mine.count).map { $0 }
    }

    /// Gives the slot to the first caller in line, with the callers behind it that fit in one trip; frees it when
    /// nobody waits.
    private func passSlot() {
        let next = state.withLock { s -> (Waiter, [Waiter])? in
            guard let first = s.line.popFirst() else {
                s.inFlight -= 1
                return nil
            }
            var others: [Waiter] = []
            var count = first.jobs.count
            while let w = s.line.first, count + w.jobs.count <= maxJobsPerTrip {
                count += w.jobs.count
                others.append(w)
                s.line.removeFirst()
            }
            return (first, others)
        }
        if let (first, others) = next { first.continuation.resume(returning: .send(others)) }
    }
}
