public import FoundationEssentials
public import Logging
public import SwitchboardQueue
public import SwitchboardJSON

/// Where an inbound event came from.
public enum Provider: String, Sendable, Codable, CaseIterable {
    case whatsapp, twilio, email
}

/// `ingest-message`: one inbound message as the provider sent it, for one tenant's channel. The webhook receiver
/// enqueues it after verifying the request; the job parses it and stores customer, conversation and message.
public struct IngestMessage: JobParameters, JobLogMetadata {
    public static let jobName = PipelineJobName.ingestMessage.rawValue
    public static var queue: String { "ingest" }
    /// A few statements in one transaction: a minute is ample, and a stuck connection frees its slot long before
    /// the library default of five minutes.
    public static var timeout: Duration { .seconds(60) }
    /// Database hiccups are retried for about a day; a parse failure is not retried at all (`DoNotRetry`).
    public static var retryPolicy: RetryPolicy { RetryPolicy(maxAttempts: 15, base: .seconds(2), cap: .seconds(15 * 60)) }

    public let tenant: UUID
    public let channel: UUID
    public let provider: Provider
    /// WhatsApp: the `messages[]` element; Twilio: every form parameter; email: the inbound JSON.
    public let event: JSONValue
    /// WhatsApp: the `contacts[]` element of the sender, if the payload had one.
    public let contact: JSONValue?
    public let receivedAtMs: Int64

    public init(tenant: UUID, channel: UUID, provider: Provider, event: JSONValue, contact: JSONValue? = nil, receivedAtMs: Int64) {
        self.tenant = tenant
        self.channel = channel
        self.provider = provider
        self.event = event
        self.contact = contact
        self.receivedAtMs = receivedAtMs
    }
}

extension IngestMessage {
    public var logMetadata: Logger.Metadata { ["tenant": "\(tenant)", "channel": "\(channel)"] }

    /// The job's JSON, as its `Codable` encoding reads it back, written without `JSONEncoder` (the webhook
    /// receiver makes one per event; a unit test holds the two encodings equal).
    public func payload() -> [UInt8] {
        inboundPayload(tenant: tenant, channel: channel, provider: provider, event: event, contact: contact, receivedAtMs: receivedAtMs)
    }
}

/// `message-status`: one delivery status of an outbound message (sent, delivered, read, failed).
public struct MessageStatusUpdate: JobParameters, JobLogMetadata {
    public static let jobName = PipelineJobName.messageStatus.rawValue
    public static var queue: String { "ingest" }
    public static var timeout: Duration { IngestMessage.timeout }
    public static var retryPolicy: RetryPolicy { IngestMessage.retryPolicy }

    public let tenant: UUID
    public let channel: UUID
    public let provider: Provider
    /// WhatsApp: the `statuses[]` element; Twilio: every form parameter of the status callback.
    public let event: JSONValue
    public let receivedAtMs: Int64

    public init(tenant: UUID, channel: UUID, provider: Provider, event: JSONValue, receivedAtMs: Int64) {
        self.tenant = tenant
        self.channel = channel
        self.provider = provider
        self.event = event
        self.receivedAtMs = receivedAtMs
    }
}

extension MessageStatusUpdate {
    public var logMetadata: Logger.Metadata { ["tenant": "\(tenant)", "channel": "\(channel)"] }

    /// The job's JSON without `JSONEncoder` (see ``IngestMessage/payload()``).
    public func payload() -> [UInt8] {
        inboundPayload(tenant: tenant, channel: channel, provider: provider, event: event, contact: nil, receivedAtMs: receivedAtMs)
    }
}

/// The JSON both inbound job types share, keyed as their `Codable` encodings.
private func inboundPayload(tenant: UUID, channel: UUID, provider: Provider, event: JSONValue, contact: JSONValue?, receivedAtMs: Int64) -> [UInt8] {
    var fields: [String: JSONValue] = [
        "tenant": .string(tenant.uuidString), "channel": .string(channel.uuidString), "provider": .string(provider.rawValue),
        "event": event, "receivedAtMs": .number(Double(receivedAtMs)),
    ]
    if let contact { fields["contact"] = contact }
    return JSONValue.object(fields).serialized()
}
