public import FoundationEssentials
public import SwitchboardRedis
import SwitchboardJSON

/// A customer's message the webhook receiver accepted and `ingest-message` has not stored yet.
public struct IntakeMark: Sendable, Equatable {
    /// The channel and the sender's provider address: `<channel>:<from>`.
    public let sender: String
    /// The provider's message id.
    public let id: String
    public let receivedAtMs: Int64

    public init(sender: String, id: String, receivedAtMs: Int64) { (self.sender, self.id, self.receivedAtMs) = (sender, id, receivedAtMs) }
}

extension IngestMessage {
    /// This message's intake mark (nil when the event names no sender or id: ingest refuses it anyway).
    public var intakeMark: IntakeMark? {
        let from: String?
        let id: String?
        switch provider {
        case .whatsapp: (from, id) = (event["from"]?.string, event["id"]?.string)
        case .twilio: (from, id) = (event["From"]?.string, event["MessageSid"]?.string ?? event["SmsMessageSid"]?.string)
        case .email:
            from = (event["FromFull"]?["Email"]?.string ?? event["From"]?.string)?.lowercased()
            id = event["MessageID"]?.string
        }
        guard let from, !from.isEmpty, let id, !id.isEmpty else { return nil }
        return IntakeMark(sender: "\(channel):\(from)", id: id, receivedAtMs: receivedAtMs)
    }
}

/// Messages in flight between the webhook receiver and `ingest-message`, per sender, so a burst's turn waits for a
/// message the customer sent inside the burst whose ingest is late (its worker died and the job waits out its lease,
/// or the database was restarting). The receiver marks each message before it enqueues the job; ingest clears the
/// mark once the message is stored (or refused); `coalesce-turn` postpones itself while its sender has marks,
/// for at most ``Pipeline/intakeWait`` (2 minutes). Marks older than that are stale (a job that never ran) and are
/// dropped.
///
/// One sorted set per sender, `sb:intake:{<channel>:<from>}` (member: provider id, score: received-at ms), expiring
/// an hour after its last mark. A mark written for a request that then fails is harmless: the provider's retry
/// writes it again, and it goes stale.
public struct IntakeMarks: Sendable {
    public let redis: RedisClient
    public init(redis: RedisClient) { self.redis = redis }

    static func key(_ sender: String) -> String { "sb:intake:{\(sender)}" }

    /// Marks messages as accepted, in one pipelined round trip.
    public func mark(_ marks: [IntakeMark]) async throws {
        guard !marks.isEmpty else { return }
        for reply in try await redis.pipeline(Self.commands(marking: marks)) {
            if case .error(let message) = reply { throw RedisError(.serverError, message) }
        }
    }

    /// The commands that mark messages as accepted, for a caller that sends them in a round trip of its own making
    /// (the web receiver sends them ahead of the jobs, in the enqueue's trip).
    public static func commands(marking marks: [IntakeMark]) -> [[RedisArgument]] {
        marks.flatMap { mark -> [[RedisArgument]] in
            [
                ["ZADD", .string(key(mark.sender)), .string(String(mark.receivedAtMs)), .string(mark.id)],
                ["PEXPIRE", .string(key(mark.sender)), "3600000"],
            ]
        }
    }

    /// The message is stored (or refused for good): its mark goes.
    public func clear(_ mark: IntakeMark) async throws {
        _ = try await redis.command(["ZREM", .string(Self.key(mark.sender)), .string(mark.id)])
    }

    /// How many messages of these senders were accepted at or after `sinceMs` and are not stored yet; older marks are
    /// dropped.
    public func pending(senders: Set<String>, sinceMs: Int64) async throws -> Int {
        var commands: [[RedisArgument]] = []
        for sender in senders.sorted() {
            commands.append(["ZREMRANGEBYSCORE", .string(Self.key(sender)), "-inf", .string("(\(sinceMs)")])
            commands.append(["ZCARD", .string(Self.key(sender))])
        }
        return try await redis.pipeline(commands).enumerated().reduce(0) { sum, item in
            item.offset % 2 == 1 ? sum + Int(item.element.int ?? 0) : sum
        }
    }
}
