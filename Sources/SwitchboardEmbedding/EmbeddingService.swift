import DequeModule
import NIOPosix
import Synchronization

/// Runs the sentence encoder on threads of its own, behind a bounded queue.
///
/// The encoder blocks for milliseconds per text, so it never runs on Swift's cooperative pool (two threads here,
/// shared by every job of the worker). Work is cut into batches; at most `threads` batches run and `queueLimit`
/// more wait; a caller past that suspends (without holding a thread) until a batch finishes, so a burst of
/// embedding — a whole help center imported at once — slows only itself, and a customer's query waits behind at
/// most `queueLimit` batches.
public final class EmbeddingService: Sendable {
    public struct Configuration: Sendable {
        /// Threads running the encoder. Default 1: a worker's other jobs keep the other core.
        public var threads: Int
        /// Batches that may wait for a thread before callers suspend.
        public var queueLimit: Int
        /// Texts per batch: larger batches use the matrix units better, smaller ones let queries in sooner.
        public var batchSize: Int

        public init(threads: Int = 1, queueLimit: Int = 8, batchSize: Int = 8) {
            (self.threads, self.queueLimit, self.batchSize) = (max(1, threads), max(0, queueLimit), max(1, batchSize))
        }
    }

    public let encoder: SentenceEncoder
    public let configuration: Configuration
    private let pool: NIOThreadPool

    private struct Gate {
        var inUse = 0
        var waiters: Deque<CheckedContinuation<Void, Never>> = []
        var closed = false
    }
    private let gate = Mutex(Gate())

    public init(encoder: SentenceEncoder, configuration: Configuration = Configuration()) {
        self.encoder = encoder
        self.configuration = configuration
        self.pool = NIOThreadPool(numberOfThreads: configuration.threads)
        pool.start()
    }

    /// Loads the model from `directory` and starts the threads.
    public convenience init(modelDirectory: String, configuration: Configuration = Configuration()) throws(EmbeddingModelError) {
        self.init(encoder: try SentenceEncoder(directory: modelDirectory), configuration: configuration)
    }

    /// Unit vectors of `texts`, in order, computed in batches on the service's threads.
    public func embed(_ texts: [String]) async throws -> [[Float]] {
        var vectors: [[Float]] = []
        vectors.reserveCapacity(texts.count)
        var start = 0
        while start < texts.count {
            let batch = Array(texts[start..<min(texts.count, start + configuration.batchSize)])
            vectors += try await run(batch)
            start += batch.count
        }
        return vectors
    }

    /// One text's vector.
    public func embed(_ text: String) async throws -> [Float] {
        try await embed([text])[0]
    }

    private func run(_ batch: [String]) async throws -> [[Float]] {
        try Task.checkCancellation()
        try await acquire()
        defer { release() }
        let encoder = self.encoder
        return try await pool.runIfActive { encoder.embed(batch) }
    }

    private func acquire() async throws {
        let capacity = configuration.threads + configuration.queueLimit
        enum Entry { case granted, wait, closed }
        let entry = gate.withLock { g -> Entry in
            if g.closed { return .closed }
            if g.inUse < capacity {
                g.inUse += 1
                return .granted
            }
            return .wait
        }
        switch entry {
        case .granted: return
        case .closed: throw EmbeddingModelError.shutDown
        case .wait:
            // The releaser hands its slot over (inUse stays), so a woken waiter holds one.
            await withCheckedContinuation { continuation in
                let granted = gate.withLock { g -> Bool in
                    if g.inUse < capacity {
                        g.inUse += 1
                        return true
                    }
                    g.waiters.append(continuation)
                    return false
                }
                if granted { continuation.resume() }
            }
            if gate.withLock({ $0.closed }) {
                release()
                throw EmbeddingModelError.shutDown
            }
        }
    }

    private func release() {
        let next = gate.withLock { g -> CheckedContinuation<Void, Never>? in
            if let next = g.waiters.popFirst() { return next }
            g.inUse -= 1
            return nil
        }
        next?.resume()
    }

    /// Wakes every waiter with ``EmbeddingModelError/shutDown`` and stops the threads after the running batches.
    public func shutdown() async throws {
        let waiters = gate.withLock { g -> [CheckedContinuation<Void, Never>] in
            g.closed = true
            defer { g.waiters.removeAll() }
            g.inUse += g.waiters.count
            return Array(g.waiters)
        }
        for waiter in waiters { waiter.resume() }
        try await pool.shutdownGracefully()
    }
}
