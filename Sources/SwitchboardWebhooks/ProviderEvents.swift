public import FoundationEssentials
public import Jobs
public import SwitchboardQueue
public import SwitchboardJSON

/// A request that cannot be accepted, with the HTTP status to answer and a short reason (never the payload).
public struct WebhookRejection: Error, Sendable, CustomStringConvertible {
    public let status: Int
    public let code: String
    public let message: String
    public var description: String { "\(status) \(code): \(message)" }

    static func badRequest(_ message: String) -> WebhookRejection { .init(status: 400, code: "malformed", message: message) }
    static func unauthorized(_ message: String) -> WebhookRejection { .init(status: 401, code: "bad_signature", message: message) }
}

/// The jobs one webhook request becomes: one per event, each with a unique key (tenant's channel + provider id)
/// held for 7 days, longer than Meta's retry window, so a redelivery or a duplicate inside one payload adds nothing.
public enum ProviderEvents {
    public static let dedupeWindow: Duration = .seconds(7 * 86_400)

    /// The job of one event: `parameters` (already encoded as `payload`) with the options its type declares, and
    /// the event's idempotency key.
    public static func job<P: JobParameters>(_ parameters: P, payload: [UInt8], uniqueKey: String) -> JobQueue.NewJob {
        // The typed resolution every enqueue path shares: the type's queue, retry policy, timeout, lock and limits.
        JobQueue.NewJob(
            parameters, payload: payload, options: JobOptions(unique: UniqueOptions(key: uniqueKey, mode: .idempotent, ttl: dedupeWindow)))
    }

    /// One WhatsApp `changes[].value` group: the number it was sent to and its messages and statuses.
    public struct WhatsAppGroup: Sendable {
        public let phoneNumberID: String
        public let value: JSONValue
    }

    /// Parses a WhatsApp Cloud API body into its `messages`-field groups; other fields (account updates, template
    /// status) carry no customer events and are counted in `ignored`.
    public static func whatsappGroups(_ body: JSONValue) throws(WebhookRejection) -> (groups: [WhatsAppGroup], ignored: Int) {
        guard body.isObject, case .array(let entries)? = body["entry"] else {
            throw .badRequest("not a WhatsApp webhook: expected an object with an entry array")
        }
        var groups: [WhatsAppGroup] = []
        var ignored = 0
        for entry in entries {
            guard entry.isObject, case .array(let changes)? = entry["changes"] else {
                throw .badRequest("an entry is not an object with a changes array")
            }
            for change in changes {
                guard change.isObject, change["field"]?.string != nil else { throw .badRequest("a change is not an object with a field") }
                guard change["field"]?.string == "messages", let value = change["value"], value.isObject else {
                    ignored += 1
                    continue
                }
                guard let id = value["metadata"]?["phone_number_id"]?.string, !id.isEmpty else {
                    throw .badRequest("a change has no metadata.phone_number_id")
                }
                groups.append(WhatsAppGroup(phoneNumberID: id, value: value))
            }
        }
        return (groups, ignored)
    }

    /// The jobs of one WhatsApp group routed to a channel. Messages without an id cannot be deduplicated or stored:
    /// they are skipped and counted.
    public static func whatsappJobs(_ group: WhatsAppGroup, tenant: UUID, channel: UUID, receivedAtMs: Int64) -> (
        jobs: [JobQueue.NewJob], skipped: Int, marks: [IntakeMark]
    ) {
        var jobs: [JobQueue.NewJob] = []
        var marks: [IntakeMark] = []
        var skipped = 0
        let contacts = group.value["contacts"]?.elements ?? []
        for message in group.value["messages"]?.elements ?? [] {
            guard let id = message["id"]?.string, !id.isEmpty else {
                skipped += 1
                continue
            }
            let from = message["from"]?.string
            let contact =
                contacts.first { from != nil && ($0["wa_id"]?.string == from || $0["user_id"]?.string == from) }
                ?? (contacts.count == 1 ? contacts[0] : nil)
            let p = IngestMessage(tenant: tenant, channel: channel, provider: .whatsapp, event: message, contact: contact, receivedAtMs: receivedAtMs)
            jobs.append(job(p, payload: p.payload(), uniqueKey: "wa:\(channel):\(id)"))
            if let mark = p.intakeMark { marks.append(mark) }
        }
        for status in group.value["statuses"]?.elements ?? [] {
            guard let id = status["id"]?.string, !id.isEmpty, let s = status["status"]?.string else {
                skipped += 1
                continue
            }
            let p = MessageStatusUpdate(tenant: tenant, channel: channel, provider: .whatsapp, event: status, receivedAtMs: receivedAtMs)
            jobs.append(job(p, payload: p.payload(), uniqueKey: "wa-status:\(channel):\(id):\(s)"))
        }
        return (jobs, skipped, marks)
    }

    /// The job of one Twilio request: a status callback (`MessageStatus` without a received `SmsStatus`) or a message.
    public static func twilioJob(_ form: [(String, String)], tenant: UUID, channel: UUID, receivedAtMs: Int64) throws(WebhookRejection)
        -> (job: JobQueue.NewJob, mark: IntakeMark?)
    {
        var fields: [String: JSONValue] = [:]
        for (k, v) in form { fields[k] = .string(v) }
        let event = JSONValue.object(fields)
        guard let sid = fields["MessageSid"]?.string ?? fields["SmsMessageSid"]?.string, !sid.isEmpty else {
            throw .badRequest("a Twilio request without MessageSid")
        }
        if let status = fields["MessageStatus"]?.string, fields["SmsStatus"]?.string != "received" {
            let p = MessageStatusUpdate(tenant: tenant, channel: channel, provider: .twilio, event: event, receivedAtMs: receivedAtMs)
            return (job(p, payload: p.payload(), uniqueKey: "tw-status:\(channel):\(sid):\(status)"), nil)
        }
        let p = IngestMessage(tenant: tenant, channel: channel, provider: .twilio, event: event, receivedAtMs: receivedAtMs)
        return (job(p, payload: p.payload(), uniqueKey: "tw:\(channel):\(sid)"), p.intakeMark)
    }

    /// Recipient addresses of a Postmark-style inbound email, each also without its `+tag` (plus-addressing).
    public static func emailRecipients(_ mail: JSONValue) throws(WebhookRejection) -> [String] {
        var out: [String] = []
        let listed = (mail["ToFull"]?.elements ?? []) + (mail["CcFull"]?.elements ?? [])
        for address in listed.compactMap({ $0["Email"]?.string }) + [mail["OriginalRecipient"]?.string].compactMap({ $0 }) {
            let lower = address.lowercased()
            out.append(lower)
            if let plus = lower.firstIndex(of: "+"), let at = lower.firstIndex(of: "@"), plus < at {
                out.append(String(lower[..<plus] + lower[at...]))
            }
        }
        guard !out.isEmpty else { throw .badRequest("an inbound email names no recipient (ToFull, CcFull or OriginalRecipient)") }
        return out
    }

    public static func emailJob(_ mail: JSONValue, tenant: UUID, channel: UUID, receivedAtMs: Int64) throws(WebhookRejection) -> (
        job: JobQueue.NewJob, mark: IntakeMark?
    ) {
        let header = mail["Headers"]?.elements.first { $0["Name"]?.string?.lowercased() == "message-id" }?["Value"]?.string
        guard let id = header ?? mail["MessageID"]?.string, !id.isEmpty else { throw .badRequest("an email without a Message-ID") }
        let p = IngestMessage(tenant: tenant, channel: channel, provider: .email, event: mail, receivedAtMs: receivedAtMs)
        return (job(p, payload: p.payload(), uniqueKey: "email:\(channel):\(id)"), p.intakeMark)
    }
}
