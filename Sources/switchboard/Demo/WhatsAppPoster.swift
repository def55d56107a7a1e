import Crypto
import Foundation
import SwitchboardHTTP

/// Posts customers' texts to a running `web` as WhatsApp Cloud API webhooks, signed with the channel's app secret
/// (`X-Hub-Signature-256`), the way Meta delivers them: for the demo and the pipeline benchmark.
struct WhatsAppPoster: Sendable {
    let url: String
    let phoneNumberID: String
    let appSecret: String
    let http: HTTPClient

    /// Posts one text from `from`; returns its provider message id. Throws when `web` does not answer 200.
    @discardableResult
    func post(_ text: String, from: String, name: String, id: String = "wamid.\(UUID().uuidString)") async throws -> String {
        let value: [String: Any] = [
            "messaging_product": "whatsapp",
            "metadata": ["display_phone_number": "15550000000", "phone_number_id": phoneNumberID],
            "contacts": [["profile": ["name": name], "wa_id": from]],
            "messages": [
                ["from": from, "id": id, "timestamp": String(Int(Date().timeIntervalSince1970)), "type": "text", "text": ["body": text]]
            ],
        ]
        try await deliver(value)
        return id
    }

    /// Posts a status of one of our sends, as Meta does after accepting it: the `wamid`, the recipient and our
    /// reference (`biz_opaque_callback_data`). Throws when `web` does not answer 200.
    func postStatus(_ status: String, id: String, to: String, reference: String) async throws {
        let value: [String: Any] = [
            "messaging_product": "whatsapp",
            "metadata": ["display_phone_number": "15550000000", "phone_number_id": phoneNumberID],
            "statuses": [
                [
                    "id": id, "status": status, "timestamp": String(Int(Date().timeIntervalSince1970)), "recipient_id": to,
                    "biz_opaque_callback_data": reference,
                ]
            ],
        ]
        try await deliver(value)
    }

    /// One signed `whatsapp_business_account` notification carrying `value`.
    private func deliver(_ value: [String: Any]) async throws {
        let payload: [String: Any] = [
            "object": "whatsapp_business_account",
            "entry": [["id": "1", "changes": [["field": "messages", "value": value]]]],
        ]
        let body = Array(try JSONSerialization.data(withJSONObject: payload))
        let signature = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(appSecret.utf8)))
        let hex = signature.map { String(format: "%02x", $0) }.joined()
        let response = try await http.execute(
            HTTPClient.Request(
                method: "POST", url: url + "/webhooks/whatsapp",
                headers: [.init("Content-Type", "application/json"), .init("X-Hub-Signature-256", "sha256=" + hex)], body: body))
        guard response.status == 200 else { throw PosterError(status: response.status, body: String(response.text.prefix(200))) }
    }
}

struct PosterError: Error, CustomStringConvertible {
    let status: Int
    let body: String
    var description: String { "web answered \(status): \(body)" }
}
