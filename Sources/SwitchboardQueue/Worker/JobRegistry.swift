import FoundationEssentials
public import Logging
import Synchronization

/// Handlers by job name, each run inside the registry's middleware. Register every job type a worker should run
/// before starting it.
public final class JobRegistry: Sendable {
    typealias Runner = @Sendable (_ payload: [UInt8], _ context: JobContext) async throws -> Void
    private let handlers = Mutex<[String: Runner]>([:])
    private let types = Mutex<[String: any JobParameters.Type]>([:])
    private let middleware = MiddlewareList()

    /// A registry whose handlers run inside the built-in middleware: per-job log metadata (``JobLogMetadata``), then
    /// the duration metric. Middleware added with ``add(_:)`` runs inside those, in the order added.
    public init() {
        middleware.append(LogMetadataMiddleware())
        middleware.append(DurationMetricsMiddleware())
    }

    /// Adds `middleware` around every handler of this registry (innermost last). Add it before the worker starts.
    public func add(_ middleware: any JobMiddleware) {
        self.middleware.append(middleware)
    }

    /// Registers `handler` for `P.jobName`. A later registration of the same name replaces the earlier one.
    public func register<P: JobParameters>(_ jobType: P.Type, handler: @escaping @Sendable (P, JobContext) async throws -> Void) {
        let decoder = JSONDecoder()  // Sendable, and safe to share: one per job type rather than one per run
        let decode: @Sendable ([UInt8]) throws -> P = { payload in
            do {
                return try decoder.decode(P.self, from: Data(payload))
            } catch {
                throw DoNotRetry("parameters of \(P.jobName) do not decode as \(P.self): \(type(of: error)); fix the producer or the type")
            }
        }
        let runner: Runner = { [middleware] payload, context in
            let parameters = try decode(payload)
            let chain = middleware.all
            try await Self.run(chain, at: 0, parameters: parameters, context: context, handler: handler)
        }
        handlers.withLock { $0[P.jobName] = runner }
        types.withLock { $0[P.jobName] = P.self }
    }

    private static func run<P: JobParameters>(
        _ chain: [any JobMiddleware], at index: Int, parameters: P, context: JobContext,
        handler: @escaping @Sendable (P, JobContext) async throws -> Void
    ) async throws {
        guard index < chain.count else { return try await handler(parameters, context) }
        try await chain[index].handle(parameters, context: context) { context in
            try await run(chain, at: index + 1, parameters: parameters, context: context, handler: handler)
        }
    }

    func runner(for name: String) -> Runner? { handlers.withLock { $0[name] } }

    /// The registered job types (for ``JobQueue/NewJob/init(name:payload:options:among:)``).
    public var jobTypes: [any JobParameters.Type] { types.withLock { Array($0.values) } }

    /// The registered names, sorted.
    public var jobNames: [String] { handlers.withLock { $0.keys.sorted() } }
}

/// The registry's middleware, shared with its runners.
private final class MiddlewareList: Sendable {
    private let items = Mutex<[any JobMiddleware]>([])
    func append(_ middleware: any JobMiddleware) { items.withLock { $0.append(middleware) } }
    var all: [any JobMiddleware] { items.withLock { $0 } }
}
