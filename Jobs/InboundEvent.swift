public import FoundationEssentials
public import Logging
public import SwitchboardQueue
public import SwitchboardJSON

/// Where an inbound event came from.
public enum Provider: String, Sendable, Codable, CaseIterable {
    case whatsapp, twilio, email
}

/// What an inbound event is: the two kinds share their fields and options and differ in job name.
public protocol InboundEventKind: Sendable {
    static var jobName: PipelineJobName { get }
}

/// A message a customer sent.
public enum InboundMessageKind: InboundEventKind {
    public static var jobName: PipelineJobName { .ingestMessage }
}

/// A delivery status of an outbound message (sent, delivered, read, failed).
public enum DeliveryStatusKind: InboundEventKind {
    public static var jobName: PipelineJobName { .messageStatus }
}

/// `ingest-message`: one inbound message as the provider sent it, for one tenant's channel. The webhook receiver
/// enqueues it after verifying the request; the job parses it and stores customer, conversation and message.
public typealias IngestMessage = InboundEvent<InboundMessageKind>

/// `message-status`: one delivery status of an outbound message, applied to the stored message.
public typealias MessageStatusUpdate = InboundEvent<DeliveryStatusKind>

/// One verified provider event for one tenant's channel, as the webhook receiver enqueues it.
public struct InboundEvent<Kind: InboundEventKind>: JobParameters, JobLogMetadata {
    public static var jobName: String { Kind.jobName.rawValue }
    public static var queue: String { "ingest" }
    /// A few statements in one transaction: a minute is ample, and a stuck connection frees its slot long before
    /// the library default of five minutes.
    public static var timeout: Duration { .seconds(60) }
    /// Database hiccups are retried for about a day; a parse failure is not retried at all (`DoNotRetry`).
    public static var retryPolicy: RetryPolicy { RetryPolicy(maxAttempts: 15, base: .seconds(2), cap: .seconds(15 * 60)) }

    public let tenant: UUID
    public let channel: UUID
    public let provider: Provider
    /// WhatsApp: the `messages[]` or `statuses[]` element; Twilio: every form parameter; email: the inbound JSON.
    public let event: JSONValue
    /// WhatsApp messages: the `contacts[]` element of the sender, if the payload had one.
    public let contact: JSONValue?
    public let receivedAtMs: Int64

    public init(tenant: UUID, channel: UUID, provider: Provider, event: JSONValue, contact: JSONValue? = nil, receivedAtMs: Int64) {
        (self.tenant, self.channel, self.provider) = (tenant, channel, provider)
        (self.event, self.contact, self.receivedAtMs) = (event, contact, receivedAtMs)
    }

    public var logMetadata: Logger.Metadata { ["tenant": "\(tenant)", "channel": "\(channel)"] }

    /// The job's JSON, as its `Codable` encoding reads it back, written without `JSONEncoder` (the webhook
    /// receiver makes one per event; a unit test holds the two encodings equal).
    public func payload() -> [UInt8] {
        var fields: [String: JSONValue] = [
            "tenant": .string(tenant.uuidString), "channel": .string(channel.uuidString), "provider": .string(provider.rawValue),
            "event": event, "receivedAtMs": .number(Double(receivedAtMs)),
        ]
        if let contact { fields["contact"] = contact }
        return JSONValue.object(fields).serialized()
    }
}
