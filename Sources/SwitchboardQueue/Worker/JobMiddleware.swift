public import Logging

/// Code that wraps every run of a job's handler, as swift-jobs' middleware does: what it does before calling `next`,
/// after it returns and when it throws applies to every job type of the registry it is added to
/// (``JobRegistry/add(_:)``). It sees the decoded parameters and the ``JobContext``, and may hand `next` a changed
/// context (more log metadata, say); it must call `next` exactly once, or throw instead.
///
/// ```swift
/// struct Timing: JobMiddleware {
///     func handle(_ parameters: any JobParameters, context: JobContext,
///                 next: @Sendable (JobContext) async throws -> Void) async throws {
///         let start = ContinuousClock.now
///         defer { context.logger.debug("ran", metadata: ["ms": "\((ContinuousClock.now - start).milliseconds)"]) }
///         try await next(context)
///     }
/// }
/// ```
public protocol JobMiddleware: Sendable {
    func handle(_ parameters: any JobParameters, context: JobContext, next: @Sendable (JobContext) async throws -> Void) async throws
}

/// Parameters that name what a job is about (a tenant, a conversation) for its log lines: every line the job logs
/// through `context.logger` carries these keys. Ids only: never names, phone numbers or message text.
public protocol JobLogMetadata {
    var logMetadata: Logger.Metadata { get }
}

/// Adds ``JobLogMetadata/logMetadata`` to the context's logger. Every registry runs it first.
struct LogMetadataMiddleware: JobMiddleware {
    func handle(_ parameters: any JobParameters, context: JobContext, next: @Sendable (JobContext) async throws -> Void) async throws {
        guard let tagged = parameters as? any JobLogMetadata else { return try await next(context) }
        let metadata = tagged.logMetadata
        guard !metadata.isEmpty else { return try await next(context) }
        var context = context
        var logger = context.logger
        logger.handler.metadata.merge(metadata) { _, new in new }
        context.logger = logger
        try await next(context)
    }
}

/// Records `switchboard_job_duration_seconds{queue,name}`: the handler's own time, middleware after it included.
/// Every registry runs it second.
struct DurationMetricsMiddleware: JobMiddleware {
    let metrics = WorkerMetrics()

    func handle(_ parameters: any JobParameters, context: JobContext, next: @Sendable (JobContext) async throws -> Void) async throws {
        let startedAt = ContinuousClock.now
        defer { metrics.ran(queue: context.queue, name: context.name, for: ContinuousClock.now - startedAt) }
        try await next(context)
    }
}
