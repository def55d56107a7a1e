public import Logging

/// A log handler that passes every message and every string in its metadata through `PIIRedactor` before the
/// wrapped handler writes it. The executable installs it around its stderr and JSON handlers.
public struct RedactingLogHandler: LogHandler {
    public var wrapped: any LogHandler

    public init(wrapping handler: any LogHandler) { wrapped = handler }

    public var logLevel: Logger.Level {
        get { wrapped.logLevel }
        set { wrapped.logLevel = newValue }
    }

    public var metadata: Logger.Metadata {
        get { wrapped.metadata }
        set { wrapped.metadata = newValue.mapValues(Self.redact) }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { wrapped[metadataKey: key] }
        set { wrapped[metadataKey: key] = newValue.map(Self.redact) }
    }

    public func log(event: LogEvent) {
        var event = event
        event.message = "\(PIIRedactor.redact(event.message.description))"
        event.metadata = event.metadata?.mapValues(Self.redact)
        wrapped.log(event: event)
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
