public import SwitchboardPostgres
public import SwitchboardQueue

/// Registers the pipeline's jobs that have landed: `ingest-message` and `message-status`.
public enum PipelineJobs {
    /// The names ``register(in:db:)`` registers.
    public static let jobNames: Set<String> = [IngestMessage.jobName, MessageStatusUpdate.jobName]

    public static func register(in registry: JobRegistry, db: PostgresClient) {
        let ingest = IngestMessageJob(db: db)
        registry.register(IngestMessage.self) { p, context in _ = try await ingest.run(p, logger: context.logger) }
        let status = MessageStatusJob(db: db)
        registry.register(MessageStatusUpdate.self) { p, context in try await status.run(p, logger: context.logger) }
    }
}
