import Foundation
public import SwitchboardHTTP
import SwitchboardJSON

/// A text reply to send, with our own reference so the provider's status webhook can name the send even when its
/// answer was never recorded (a crash right after the request).
public struct OutboundText: Sendable, Hashable {
    /// The recipient: a WhatsApp id (digits) or an E.164 number.
    public var to: String
    public var body: String
    /// The provider id of the customer's message this answers (WhatsApp shows it as a reply).
    public var replyTo: String?
    public var reference: String

    public init(to: String, body: String, replyTo: String? = nil, reference: String) {
        (self.to, self.body, self.replyTo, self.reference) = (to, body, replyTo, reference)
    }
}

/// A send that did not give a provider message id. Names the provider and status, never the token or the text.
public struct MessageSendError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The provider refused the message (4xx): sending again will not help.
        case rejected
        /// 401/403: the channel's token is wrong or expired.
        case unauthorized
        /// WhatsApp: the customer last wrote more than 24 hours ago; a free-form message needs a template.
        case outsideWindow
        /// 5xx or 429: the provider did not take it; it may be sent again.
        case notTaken
        /// No connection was made: certainly not sent.
        case unreachable
        /// The request may have reached the provider with no answer back (a timeout, a cut connection).
        case uncertain
    }
    public let provider: String
    public let status: Int?
    public let kind: Kind
    public let code: String?

    public init(provider: String, status: Int?, kind: Kind, code: String?) {
        (self.provider, self.status, self.kind, self.code) = (provider, status, kind, code)
    }

    public var description: String {
        let what = "\(provider) send" + (status.map { ": HTTP \($0)" } ?? "") + (code.map { " (\($0))" } ?? "")
        switch kind {
        case .rejected: return "\(what): refused by the provider; not retried"
        case .unauthorized: return "\(what): the channel's token was refused; update it with: switchboard channels add"
        case .outsideWindow: return "\(what): outside WhatsApp's 24-hour customer-service window; a template is needed"
        case .notTaken: return "\(what): not taken by the provider; it will be retried"
        case .unreachable: return "\(what): cannot connect; not sent, it will be retried"
        case .uncertain: return "\(what): no answer; the message may have been sent, so it waits for a status before any resend"
        }
    }
}

/// WhatsApp Cloud API: `POST {base}/{version}/{phone-number-id}/messages` with a bearer token.
public struct WhatsAppCloudSender: Sendable {
    public var http: HTTPClient
    public var baseURL: String
    public var version: String
    public var phoneNumberID: String
    public var accessToken: String
    public var timeout: Duration

    public init(
        http: HTTPClient, phoneNumberID: String, accessToken: String, baseURL: String = "https://graph.facebook.com", version: String = "v21.0",
        timeout: Duration = .seconds(20)
    ) {
        (self.http, self.phoneNumberID, self.accessToken, self.baseURL, self.version, self.timeout) =
            (http, phoneNumberID, accessToken, baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL, version, timeout)
    }

    /// Sends a text; returns the `wamid`.
    public func send(_ message: OutboundText) async throws -> String {
        var object: [String: JSONValue] = [
            "messaging_product": .string("whatsapp"), "recipient_type": .string("individual"), "to": .string(message.to), "type": .string("text"),
            "text": .object(["preview_url": .bool(false), "body": .string(message.body)]), "biz_opaque_callback_data": .string(message.reference),
        ]
        if let replyTo = message.replyTo { object["context"] = .object(["message_id": .string(replyTo)]) }
        let request = HTTPClient.Request(
            method: "POST", url: "\(baseURL)/\(version)/\(phoneNumberID)/messages",
            headers: [.init("Content-Type", "application/json"), .init("Authorization", "Bearer \(accessToken)")],
            body: Array(try JSONEncoder().encode(JSONValue.object(object))), timeout: timeout)
        let response = try await SendExchange.perform(http, request, provider: "whatsapp")
        let json = try? JSONValue.parse(response.body)
        if (200..<300).contains(response.status), let id = json?["messages"]?.elements.first?["id"]?.string, !id.isEmpty { return id }
        let code = json?["error"]?["code"]?.number.map { String(Int($0)) }
        // 131047: re-engagement message (more than 24 hours since the customer wrote).
        if code == "131047" { throw MessageSendError(provider: "whatsapp", status: response.status, kind: .outsideWindow, code: code) }
        throw SendExchange.error("whatsapp", response.status, code: code)
    }
}

/// Twilio Programmable Messaging: `POST {base}/2010-04-01/Accounts/{sid}/Messages.json`, form body, basic auth.
public struct TwilioSender: Sendable {
    public var http: HTTPClient
    public var baseURL: String
    public var accountSID: String
    public var authToken: String
    /// Our number (E.164, or `whatsapp:+…`).
    public var from: String
    /// Where Twilio posts statuses; the reference is added as `sb_ref`.
    public var statusCallback: String?
    public var timeout: Duration

    public init(
        http: HTTPClient, accountSID: String, authToken: String, from: String, statusCallback: String?, baseURL: String = "https://api.twilio.com",
        timeout: Duration = .seconds(20)
    ) {
        (self.http, self.accountSID, self.authToken, self.from, self.statusCallback, self.timeout) =
            (http, accountSID, authToken, from, statusCallback, timeout)
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
    }

    /// Sends a text; returns the message SID.
    public func send(_ message: OutboundText) async throws -> String {
        var fields = [("To", message.to), ("From", from), ("Body", message.body)]
        if let statusCallback {
            fields.append(
                ("StatusCallback", statusCallback + (statusCallback.contains("?") ? "&" : "?") + "sb_ref=" + Self.escape(message.reference)))
        }
        let body = fields.map { "\($0.0)=\(Self.escape($0.1))" }.joined(separator: "&")
        let basic = Data("\(accountSID):\(authToken)".utf8).base64EncodedString()
        let request = HTTPClient.Request(
            method: "POST", url: "\(baseURL)/2010-04-01/Accounts/\(accountSID)/Messages.json",
            headers: [.init("Content-Type", "application/x-www-form-urlencoded"), .init("Authorization", "Basic \(basic)")], body: Array(body.utf8),
            timeout: timeout)
        let response = try await SendExchange.perform(http, request, provider: "twilio")
        let json = try? JSONValue.parse(response.body)
        if (200..<300).contains(response.status), let sid = json?["sid"]?.string, !sid.isEmpty { return sid }
        throw SendExchange.error("twilio", response.status, code: json?["code"]?.number.map { String(Int($0)) })
    }

    static func escape(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}

enum SendExchange {
    static func perform(_ http: HTTPClient, _ request: HTTPClient.Request, provider: String) async throws -> HTTPClient.Response {
        do {
            return try await http.execute(request)
        } catch let error as HTTPClientError {
            switch error.code {
            case .connectionRefused, .hostNotFound, .invalidRequest:
                throw MessageSendError(provider: provider, status: nil, kind: .unreachable, code: nil)
            case .tlsFailure:
                throw MessageSendError(provider: provider, status: nil, kind: .unreachable, code: "tls")
            default:
                // Timed out, cancelled or cut after connecting: the request may have arrived.
                throw MessageSendError(provider: provider, status: nil, kind: .uncertain, code: nil)
            }
        }
    }

    static func error(_ provider: String, _ status: Int, code: String?) -> MessageSendError {
        let kind: MessageSendError.Kind =
            switch status {
            case 401, 403: .unauthorized
            case 429, 500...: .notTaken
            case 200..<300: .uncertain  // 2xx without an id: it may have been taken
            default: .rejected
            }
        return MessageSendError(provider: provider, status: status, kind: kind, code: code)
    }
}
