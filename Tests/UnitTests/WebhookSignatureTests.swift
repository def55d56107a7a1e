import Foundation
import SwitchboardWebhooks
import Testing

/// The signature vectors in Tests/Fixtures/webhooks (see SOURCES.md there).
@Suite("Webhook signatures")
struct WebhookSignatureTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/webhooks")

    func load(_ name: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: Self.folder.appendingPathComponent(name))) as? [String: Any] ?? [:]
    }

    @Test func metaVectorsPassAndATamperedBodyFails() throws {
        let vectors = try load("wa_signature_vectors.json")["vectors"] as? [[String: Any]] ?? []
        #expect(vectors.count == 3)
        // (1) "test" / "secret"
        let first = vectors[0]
        #expect(
            WebhookSignature.verifyMeta(
                body: Array((first["body_utf8"] as! String).utf8), header: first["x_hub_signature_256"] as? String, appSecret: "secret"))
        // (2) the exact bytes of wa_text.json
        let body = Array(try Data(contentsOf: Self.folder.appendingPathComponent("wa_text.json")))
        let header = vectors[1]["x_hub_signature_256"] as? String
        #expect(WebhookSignature.verifyMeta(body: body, header: header, appSecret: "test_app_secret"))
        #expect(WebhookSignature.hmacSHA256Hex(key: Array("test_app_secret".utf8), message: body) == header?.dropFirst(7).description)
        // (3) "Body Text" → "Body Text!" fails against (2), and matches its own recorded signature.
        let tampered = Array(String(decoding: body, as: UTF8.self).replacingOccurrences(of: "Body Text", with: "Body Text!").utf8)
        #expect(!WebhookSignature.verifyMeta(body: tampered, header: header, appSecret: "test_app_secret"))
        #expect(
            WebhookSignature.verifyMeta(
                body: tampered, header: vectors[2]["x_hub_signature_256_of_tampered"] as? String, appSecret: "test_app_secret"))
        // Any one-byte change of the body fails; so do malformed headers.
        for i in stride(from: 0, to: body.count, by: 37) {
            var changed = body
            changed[i] ^= 0x20
            #expect(!WebhookSignature.verifyMeta(body: changed, header: header, appSecret: "test_app_secret"))
        }
        let hex = String(header?.dropFirst(7) ?? "")
        let malformed: [String?] = [nil, "", "sha256=", "sha1=" + hex, "sha256=zz" + String(hex.dropFirst(2)), "sha256=" + hex + "00"]
        for bad in malformed {
            #expect(!WebhookSignature.verifyMeta(body: body, header: bad, appSecret: "test_app_secret"))
        }
    }

    @Test func twilioVectorsPass() throws {
        let file = try load("twilio_signature_vectors.json")
        let token = file["auth_token"] as? String ?? ""
        let vectors = file["vectors"] as? [[String: Any]] ?? []
        #expect(vectors.count == 5)
        for v in vectors {
            let url = v["url"] as! String
            var parameters: [(String, String)] = []
            if let params = v["params"] as? [String: String] { parameters = params.map { ($0.key, $0.value) } }
            if let multi = v["params_multi"] as? [[String]] { parameters = multi.map { ($0[0], $0[1]) } }
            let expected = v["expected"] as? String
            #expect(WebhookSignature.verifyTwilio(url: url, parameters: parameters, header: expected, authToken: token), "\(v["name"] ?? "")")
            #expect(!WebhookSignature.verifyTwilio(url: url, parameters: parameters, header: expected, authToken: token + "x"))
            #expect(!WebhookSignature.verifyTwilio(url: url + "&x=1", parameters: parameters, header: expected, authToken: token))
            if !parameters.isEmpty {
                var changed = parameters
                changed[0].1 += "!"
                #expect(!WebhookSignature.verifyTwilio(url: url, parameters: changed, header: expected, authToken: token))
            }
        }
    }

    @Test func formBodiesDecodePlusPercentAndUTF8() throws {
        let form = try FormBody.parse(Array("Body=hi+there%2C+2%2B3%3D4&From=whatsapp%3A%2B1&Ol%C3%A1=x&Empty=".utf8))
        #expect(form.map { "\($0.0)=\($0.1)" } == ["Body=hi there, 2+3=4", "From=whatsapp:+1", "Olá=x", "Empty="])
        for bad in ["%", "a=%zz", "a=%E0%A4%A", "a=%FF", "=x"] {
            #expect(throws: FormBody.Malformed.self) { try FormBody.parse(Array(bad.utf8)) }
        }
    }
}
