import FoundationEssentials
import SwitchboardQueue
import SwitchboardJSON

/// An inbound message in Switchboard's terms, parsed from one provider event.
struct InboundMessage: Sendable, Equatable {
    /// wamid, Twilio MessageSid, or the email's Message-ID header.
    var providerMessageID: String
    /// How the customer is known, most specific first: (kind, value) with kind phone, wa_id, wa_bsuid or email.
    var identities: [(kind: String, value: String)]
    var displayName: String?
    /// One of the `messages.type` values of the schema.
    var type: String
    var text: String?
    var media: JSONValue?
    var replyTo: String?
    var sentAt: Date?

    static func == (a: InboundMessage, b: InboundMessage) -> Bool {
        a.providerMessageID == b.providerMessageID && a.identities.map { "\($0.kind)=\($0.value)" } == b.identities.map { "\($0.kind)=\($0.value)" }
            && a.displayName == b.displayName && a.type == b.type && a.text == b.text && a.media == b.media && a.replyTo == b.replyTo
            && a.sentAt == b.sentAt
    }
}

/// Why an event cannot become a message; the job fails it without retrying (the payload will not change).
struct UnparseableEvent: Error, CustomStringConvertible {
    let description: String
}

extension InboundMessage {
    static let storedTypes: Set<String> = [
        "text", "image", "audio", "video", "document", "sticker", "location", "contacts", "interactive", "button", "order", "reaction",
        "system", "unsupported",
    ]

    /// A WhatsApp Cloud API `messages[]` element, with the sender's `contacts[]` element when there was one.
    static func whatsapp(_ m: JSONValue, contact: JSONValue?) throws -> InboundMessage {
        guard let id = m["id"]?.string, !id.isEmpty else { throw UnparseableEvent(description: "a WhatsApp message without an id") }
        let declared = m["type"]?.string ?? "unsupported"
        var type = storedTypes.contains(declared) ? declared : "unsupported"
        var identities: [(String, String)] = []
        let waID = contact?["wa_id"]?.string ?? m["from"]?.string
        if let waID, !waID.isEmpty, waID.allSatisfy({ $0.isASCII && $0.isNumber }) {
            identities.append(("wa_id", waID))
            identities.append(("phone", "+" + waID))
        }
        if let bsuid = contact?["user_id"]?.string ?? m["user_id"]?.string, !bsuid.isEmpty { identities.append(("wa_bsuid", bsuid)) }
        if let from = m["from"]?.string, !from.isEmpty, waID == nil || !identities.contains(where: { $0.1 == from }),
            !from.allSatisfy({ $0.isASCII && $0.isNumber })
        {
            identities.append(("wa_bsuid", from))  // a BSUID in `from` (2026 usernames)
        }
        guard !identities.isEmpty else { throw UnparseableEvent(description: "WhatsApp message \(id) names no sender (no from, wa_id or user_id)") }

        var text: String? = nil
        var media: JSONValue? = nil
        switch type {
        case "text": text = m["text"]?["body"]?.string
        case "image", "audio", "video", "document", "sticker":
            media = m[type]
            text = m[type]?["caption"]?.string
        case "location":
            media = m["location"]
            text = [m["location"]?["name"]?.string, m["location"]?["address"]?.string].compactMap { $0 }.joined(separator: ", ").nilIfEmpty
        case "interactive":
            let i = m["interactive"]
            media = i
            text = i?["button_reply"]?["title"]?.string ?? i?["list_reply"]?["title"]?.string ?? i?["nfm_reply"]?["body"]?.string
            if i == nil { type = "unsupported" }  // Meta sends "interactive" without the object when it could not decode it
        case "button":
            media = m["button"]
            text = m["button"]?["text"]?.string
        case "reaction":
            media = m["reaction"]
            text = m["reaction"]?["emoji"]?.string
        case "order":
            media = m["order"]
            text = m["order"]?["text"]?.string
        case "contacts": media = m["contacts"]
        case "system":
            media = m["system"]
            text = m["system"]?["body"]?.string
        default:
            media = m["unsupported"] ?? m["errors"]
        }
        let sentAt = m["timestamp"]?.string.flatMap(Double.init).map { Date(timeIntervalSince1970: $0) }
        return InboundMessage(
            providerMessageID: id, identities: identities, displayName: contact?["profile"]?["name"]?.string, type: type, text: text, media: media,
            replyTo: m["context"]?["id"]?.string, sentAt: sentAt)
    }

    /// A Twilio Messaging webhook (SMS or WhatsApp), as its form parameters.
    static func twilio(_ form: JSONValue) throws -> InboundMessage {
        guard let sid = form["MessageSid"]?.string ?? form["SmsMessageSid"]?.string, !sid.isEmpty else {
            throw UnparseableEvent(description: "a Twilio message without MessageSid")
        }
        guard let from = form["From"]?.string, !from.isEmpty else { throw UnparseableEvent(description: "Twilio message \(sid) has no From") }
        var identities: [(String, String)] = []
        let address = from.hasPrefix("whatsapp:") ? String(from.dropFirst("whatsapp:".count)) : from
        if address.hasPrefix("+") {
            identities.append(("phone", address))
        } else {
            identities.append(("wa_bsuid", form["ExternalUserId"]?.string ?? address))
        }
        if let waID = form["WaId"]?.string, !waID.isEmpty { identities.append(("wa_id", waID)) }
        let mediaCount = Int(form["NumMedia"]?.string ?? "0") ?? 0
        var type = "text"
        var media: JSONValue? = nil
        if mediaCount > 0 {
            let items = (0..<min(mediaCount, 10)).map { i -> JSONValue in
                .object(["url": form["MediaUrl\(i)"] ?? .null, "content_type": form["MediaContentType\(i)"] ?? .null])
            }
            media = .array(items)
            let kind = form["MediaContentType0"]?.string?.split(separator: "/").first.map(String.init) ?? ""
            type = ["image", "audio", "video"].contains(kind) ? kind : "document"
        } else if let lat = form["Latitude"]?.string, let lon = form["Longitude"]?.string {
            type = "location"
            media = .object([
                "latitude": .string(lat), "longitude": .string(lon), "address": form["Address"] ?? .null, "label": form["Label"] ?? .null,
            ])
        } else if form["ButtonPayload"]?.string != nil {
            type = "button"
            media = .object(["payload": form["ButtonPayload"] ?? .null, "text": form["ButtonText"] ?? .null])
        }
        let body = form["Body"]?.string?.replacing("\u{0}", with: "")
        return InboundMessage(
            providerMessageID: sid, identities: identities, displayName: form["ProfileName"]?.string, type: type,
            text: body?.nilIfEmpty ?? form["ButtonText"]?.string, media: media, replyTo: form["OriginalRepliedMessageSid"]?.string, sentAt: nil)
    }

    /// A Postmark-style inbound email. The id is the RFC Message-ID header (what threads and retries share), else
    /// Postmark's MessageID. Attachments are kept as name, type and size; their content is not stored.
    static func email(_ mail: JSONValue) throws -> InboundMessage {
        let header = mail["Headers"]?.elements.first { $0["Name"]?.string?.lowercased() == "message-id" }?["Value"]?.string
        guard let id = (header ?? mail["MessageID"]?.string)?.nilIfEmpty else { throw UnparseableEvent(description: "an email without Message-ID") }
        guard let from = (mail["FromFull"]?["Email"]?.string ?? mail["From"]?.string)?.lowercased().nilIfEmpty else {
            throw UnparseableEvent(description: "email \(id) has no sender")
        }
        let attachments =
            mail["Attachments"]?.elements.map { a -> JSONValue in
                .object(["name": a["Name"] ?? .null, "content_type": a["ContentType"] ?? .null, "length": a["ContentLength"] ?? .null])
            } ?? []
        let subject = mail["Subject"]?.string
        let body = mail["StrippedTextReply"]?.string?.nilIfEmpty ?? mail["TextBody"]?.string
        return InboundMessage(
            providerMessageID: id, identities: [("email", from)], displayName: mail["FromFull"]?["Name"]?.string?.nilIfEmpty, type: "email",
            text: [subject, body].compactMap { $0?.nilIfEmpty }.joined(separator: "\n\n").nilIfEmpty,
            media: .object(["subject": subject.map(JSONValue.string) ?? .null, "attachments": .array(attachments)]),
            replyTo: mail["Headers"]?.elements.first { $0["Name"]?.string?.lowercased() == "in-reply-to" }?["Value"]?.string, sentAt: nil)
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
