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
        let payload: [String: Any] = [
            "object": "whatsapp_business_account",
            "entry": [
                [
                    "id": "1",
                    "changes": [
                        [
                            "field": "messages",
                            "value": [
                                "messaging_product": "whatsapp",
                                "metadata": ["display_phone_number": "15550000000", "phone_number_id": phoneNumberID],
                                "contacts": [["profile": ["name": name], "wa_id": from]],
                                "messages": [
                                    [
                                        "from": from, "id": id, "timestamp": String(Int(Date().timeIntervalSince1970)), "type": "text",
                                        "text": ["body": text],
                                    ]
                                ],
                            ],
                        ]
                    ],
                ]
            ],
        ]
        let body = Array(try JSONSerialization.data(withJSONObject: payload))
        let signature = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(appSecret.utf8)))
        let hex = signature.map { String(format: "%02x", $0) }.joined()
        let response = try await http.execute(
            HTTPClient.Request(
                method: "POST", url: url + "/webhooks/whatsapp",
                headers: [.init("Content-Type", "application/json"), .init("X-Hub-Signature-256", "sha256=" + hex)], body: body))
        guard response.status == 200 else { throw PosterError(status: response.status, body: String(response.text.prefix(200))) }
        return id
    }
}

struct PosterError: Error, CustomStringConvertible {
    let status: Int
    let body: String
    var description: String { "web answered \(status): \(body)" }
}
