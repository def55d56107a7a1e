import DequeModule
import Foundation
import Glibc
import NIOConcurrencyHelpers
import Synchronization

/// The threads behind a ``RedisClient``: each owns one ``RedisConnection`` for its whole life, so the client holds
/// exactly as many connections as it has threads, and blocking hiredis calls never run on Swift's cooperative pool.
///
/// Work is run by an idle thread at once, or queued (first in, first out) until one is free. ``reserveIdle()`` hands a
/// caller a parked thread and its connection outright: the caller may write a request on that connection without
/// blocking, then ``post(_:to:)`` the wait for the reply to the same thread. That is what NIO's `NIOThreadPool`
/// cannot do (a connection there belongs to no thread, and work cannot be given to a chosen thread), so this small
/// pool is written here.
///
/// It is also a `TaskExecutor` (SE-0417): a task that prefers it runs its code on these threads, and a Redis call it
/// makes there runs inline on that thread's own connection (``currentIndex()``), with no hand-off and no suspension.
/// That is how one producer enqueuing in a loop pays the round trip and nothing else (``RedisClient/taskExecutor``).
final class RedisThreads: TaskExecutor, Sendable {
    /// One unit of work: `run` on a thread with its connection, or `cancel` when the client shut down first.
    struct Work: Sendable {
        var run: @Sendable (RedisConnection) -> Void
        var cancel: @Sendable () -> Void
    }

    private struct State: ~Copyable {
        var idle: [Int] = []
        var queue: Deque<Work> = []
        /// What each parked thread is woken for (nil: stop).
        var mailbox: [Work?]
        var stopping = false
        var running: Int
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    let connections: [RedisConnection]
    private let state: Mutex<State>
    /// Each thread's `pthread_self()`, set as it starts (0 until then): how a call finds it runs on one of them.
    private let identities: Mutex<[pthread_t]>
    /// Per thread: true while its mailbox holds something to take.
    private let bells: [ConditionLock<Bool>]

    init(count: Int, configuration: RedisConfiguration) {
        connections = (0..<count).map { _ in RedisConnection(configuration: configuration) }
        bells = (0..<count).map { _ in ConditionLock(value: false) }
        state = Mutex(State(mailbox: Array(repeating: nil, count: count), running: count))
        identities = Mutex(Array(repeating: 0, count: count))
        for index in 0..<count {
            let thread = Thread { [self] in loop(index) }
            thread.name = "redis-client-\(index)"
            thread.start()
        }
    }

    /// Runs `work` on the next free thread; cancels it if the client has shut down.
    func submit(_ work: Work) {
        let parked = state.withLock { s -> Int?? in
            if s.stopping { return .none }
            if let t = s.idle.popLast() {
                s.mailbox[t] = work
                return .some(t)
            }
            s.queue.append(work)
            return .some(nil)
        }
        switch parked {
        case .none: work.cancel()
        case .some(let t?): ring(t)
        case .some(nil): break
        }
    }

    /// A parked thread, taken out of service for the caller: nil when every thread is busy or the client stopped.
    /// The caller owns `connections[t]` until it posts work to `t` (which it must do exactly once).
    func reserveIdle() -> Int? {
        state.withLock { s in s.stopping ? nil : s.idle.popLast() }
    }

    /// Gives a reserved thread its work.
    func post(_ work: Work, to t: Int) {
        state.withLock { $0.mailbox[t] = work }
        ring(t)
    }

    /// The index of the client thread the caller runs on, or nil when it runs anywhere else.
    func currentIndex() -> Int? {
        let me = pthread_self()
        return identities.withLock { ids in ids.firstIndex(of: me) }
    }

    /// Runs a task's job on the next free thread (the task then runs there until it suspends). After shutdown the job
    /// goes to Swift's global executor: a job must run somewhere, and the task's Redis calls then fail as usual.
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        submit(
            Work(
                run: { _ in job.runSynchronously(on: self.asUnownedTaskExecutor()) },
                cancel: { globalConcurrentExecutor.enqueue(ExecutorJob(job)) }))
    }

    /// Stops every thread once it is idle (work already running finishes; work still queued is cancelled) and closes
    /// the connections.
    func shutdown() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let (parked, queued, finished) = state.withLock { s -> ([Int], Deque<Work>, Bool) in
                if s.running == 0 { return ([], [], true) }
                s.waiting.append(done)
                if s.stopping { return ([], [], false) }
                s.stopping = true
                let parked = s.idle
                s.idle.removeAll()
                for t in parked { s.mailbox[t] = nil }
                defer { s.queue.removeAll() }
                return (parked, s.queue, false)
            }
            for work in queued { work.cancel() }
            for t in parked { ring(t) }
            if finished { done.resume() }
        }
    }

    private func ring(_ t: Int) {
        bells[t].lock()
        bells[t].unlock(withValue: true)
    }

    private func loop(_ t: Int) {
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGPIPE)
        // hiredis writes with write(2); SIGPIPE (Redis closed the socket mid-request) would end the process. Blocked
        // here, as libpq does for its sends, the write fails with EPIPE and is reported as a lost connection.
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        identities.withLock { $0[t] = pthread_self() }
        let connection = connections[t]
        while true {
            let next = state.withLock { s -> Work?? in
                if let work = s.queue.popFirst() { return .some(work) }
                if s.stopping { return .some(nil) }
                s.idle.append(t)
                return .none
            }
            var work: Work?
            switch next {
            case .some(let w): work = w
            case .none:
                bells[t].lock(whenValue: true)
                bells[t].unlock(withValue: false)
                work = state.withLock { s in
                    let w = s.mailbox[t]
                    s.mailbox[t] = nil
                    return w
                }
            }
            guard let work else { break }
            work.run(connection)
        }
        connection.close()
        identities.withLock { $0[t] = 0 }  // a later thread may be given the same id
        let waiting = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.running -= 1
            guard s.running == 0 else { return [] }
            defer { s.waiting.removeAll() }
            return s.waiting
        }
        for continuation in waiting { continuation.resume() }
    }
}
