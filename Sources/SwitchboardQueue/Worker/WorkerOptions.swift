import Glibc

/// How a worker process takes and runs jobs. Every field has a production default.
public struct WorkerOptions: Sendable {
    /// Queues to take from. Default `["default"]`. How the worker chooses among several: ``queueWeights`` and
    /// ``strictPriority``.
    public var queues: [String] = ["default"]
    /// Weighted round-robin: each time the worker takes jobs it tries the queues in a random order drawn with these
    /// weights (a queue missing here weighs 1), so with every queue backlogged a queue of weight 5 among weights
    /// 5, 2, 1 gets about 5/8 of the jobs, and no queue starves. Default: all 1.
    public var queueWeights: [String: Int] = [:]
    /// Strict priority: always the first queue in ``queues`` that has a job; later queues wait until earlier ones are
    /// empty (a busy high queue starves the rest, by design). Default false.
    public var strictPriority = false
    /// Direct handoff (with one queue): an idle worker registers as a waiter, and an enqueue leases the new job
    /// straight to it, in the reply that wakes it, without a `take` round trip (lower pickup latency). Default true.
    public var directHandoff = true
    /// Job slots in this process. Default 16.
    public var concurrency: Int = 16
    /// A job whose lock is busy or whose concurrency key is full waits on the key's wait list and is woken when the
    /// holder releases it (a parked job is still retried after ``keyWaitSafety`` if no wake-up comes: a holder that
    /// died). False: it is put back 200–400 ms out and tries again (polling). Default true.
    public var waitForKeys = true
    /// How long a parked job waits for a wake-up before it tries again anyway. Default 5 s.
    public var keyWaitSafety: Duration = .seconds(5)
    /// How long a lease lasts without a heartbeat. A SIGKILLed worker's jobs are ready again at most
    /// this long plus ``maxBlock`` after its last heartbeat. Default 10 s.
    public var leaseDuration: Duration = .seconds(10)
    /// How often leases are extended and the process heartbeat is published. Default 2 s.
    public var heartbeatInterval: Duration = .seconds(2)
    /// After SIGTERM: how long running jobs may finish before they are handed back to ready. Default 25 s.
    public var gracePeriod: Duration = .seconds(25)
    /// Longest idle wait when nothing is due; bounds how fast a lapsed lease is noticed. Default 1 s.
    public var maxBlock: Duration = .seconds(1)
    /// Finished jobs kept for inspection (count 0: deleted at once). Default 0, 1 h.
    public var doneRetention = Retention(count: 0, age: .seconds(3600))
    /// Dead jobs kept (by count and age). Default 10,000 and 30 days.
    public var deadRetention = Retention(count: 10_000, age: .seconds(30 * 86_400))
    /// Extra time a handler gets after its soft timeout cancelled it. If it still has not returned (it ignores
    /// cancellation or blocks a thread), ``onHardTimeout`` runs: the prefork worker exits the child process so the
    /// supervisor restarts it, and the job's lease lapses and it is retried. Default 30 s.
    public var hardTimeoutGrace: Duration = .seconds(30)
    /// Called (from the heartbeat) with the id of a job past its hard timeout. Default: nothing.
    public var onHardTimeout: @Sendable (_ jobID: String) -> Void = { _ in }
    /// How long the worker that completed a job has to relay its successors for other queues (chains) before any
    /// worker's outbox sweep (every heartbeat) may relay them instead. Default 5 s.
    public var relayGrace: Duration = .seconds(5)
    /// How long a relayed successor's record (`sb:{q}:relayed:<id>`) keeps a second relay of it from creating it
    /// again. A second relay happens only when a worker died between relaying and acknowledging; any worker on the
    /// parent's queue repeats it within ``relayGrace`` plus a heartbeat. Default 1 h.
    public var relayRecordTTL: Duration = .seconds(3600)
    /// For tests: SIGKILL this process at a point of the successor relay (see ``TestFault``). Default nil.
    public var testFault: TestFault? = nil
    /// This process's identity in leases and heartbeats. Default `host:pid:random`.
    public var workerID: String = WorkerOptions.defaultWorkerID()

    public init() {}

    static func defaultWorkerID() -> String {
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, 255)
        let host = String(decoding: name.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return "\(host):\(getpid()):\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
    }
}

/// How many finished or dead jobs to keep, and for how long.
public struct Retention: Sendable, Hashable {
    public var count: Int
    public var age: Duration
    public init(count: Int, age: Duration) {
        self.count = count
        self.age = age
    }
}

extension WorkerOptions {
    /// The order to try the queues in this time: ``queues`` as listed under strict priority, else a weighted random
    /// shuffle (each pick drawn by weight from the queues not yet picked).
    func queueOrder<G: RandomNumberGenerator>(using generator: inout G) -> [String] {
        if strictPriority || queues.count < 2 { return queues }
        var remaining = queues.map { (name: $0, weight: max(1, queueWeights[$0] ?? 1)) }
        var order: [String] = []
        while !remaining.isEmpty {
            var pick = Int.random(in: 0..<remaining.reduce(0) { $0 + $1.weight }, using: &generator)
            let index = remaining.firstIndex { entry in
                if pick < entry.weight { return true }
                pick -= entry.weight
                return false
            }!
            order.append(remaining.remove(at: index).name)
        }
        return order
    }
}
