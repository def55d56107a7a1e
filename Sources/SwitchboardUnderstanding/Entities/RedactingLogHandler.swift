public import Logging

/// A log handler that passes every message and every string in its metadata through `PIIRedactor` before the
/// wrapped handler writes it. The executable installs it around its stderr and JSON handlers.
///
/// Metadata set on the logger is kept as given and redacted only when a line is written: a web request sets its
/// metadata on every request, and redacting it there (found by `perf` under load, 8 % of the receiver's CPU) paid for
/// lines that the log level then dropped.
public struct RedactingLogHandler: LogHandler {
    public var wrapped: any LogHandler

    public init(wrapping handler: any LogHandler) { wrapped = handler }

    public var logLevel: Logger.Level {
        get { wrapped.logLevel }
        set { wrapped.logLevel = newValue }
    }

    public var metadata: Logger.Metadata {
        get { wrapped.metadata }
        set { wrapped.metadata = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { wrapped[metadataKey: key] }
        set { wrapped[metadataKey: key] = newValue }
    }

    public func log(event: LogEvent) {
        var event = event
        event.message = "\(PIIRedactor.redact(event.message.description))"
        event.metadata = event.metadata?.mapValues(Self.redact)
        var writer = wrapped
        writer.metadata = wrapped.metadata.mapValues(Self.redact)
        writer.log(event: event)
    }

    static func redact(_ value: Logger.Metadata.Value) -> Logger.Metadata.Value {
        switch value {
        case .string(let s): .string(PIIRedactor.redact(s))
        case .stringConvertible(let c): .string(PIIRedactor.redact(c.description))
        case .array(let values): .array(values.map(redact))
        case .dictionary(let values): .dictionary(values.mapValues(redact))
        }
    }
}
