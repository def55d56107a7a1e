import Foundation
import SwitchboardHTTP
import SwitchboardWebhooks
import Testing

/// A small deterministic generator, so a failing body can be reproduced from the seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
}

@Suite("Webhooks: hostile input", .exclusive, .timeLimit(.minutes(4)))
struct HostileInputTests {
    /// 1,000 generated bad requests across the three endpoints: no crash, every answer 4xx, nothing enqueued.
    @Test func aThousandMalformedRequestsGetFourHundredsAndEnqueueNothing() async throws {
        let h = try await WebhookHarness.make()
        var rng = SeededGenerator(state: 0x5EED_1234_ABCD_0001)
        let fixtures = try ["wa_text.json", "wa_batch_two_changes_one_entry.json", "wa_order_from_catalog.json", "wa_status_read.json"].map {
            try h.routed($0)
        }
        let email = try WebhookHarness.fixture("email_postmark_inbound.json")
        let form = try WebhookHarness.fixture("twilio_sms_multiline_body.txt")
        let json = "application/json", formType = "application/x-www-form-urlencoded"

        var cases: [(kind: String, path: String, body: [UInt8], type: String?)] = []
        for _ in 0..<200 {  // truncated JSON
            let f = fixtures.randomElement(using: &rng)!
            cases.append(("truncated", "/webhooks/whatsapp", Array(f.prefix(Int.random(in: 1..<(f.count - 2), using: &rng))), json))
        }
        for _ in 0..<50 {
            cases.append(("truncated", "/webhooks/email", Array(email.prefix(Int.random(in: 1..<(email.count - 2), using: &rng))), json))
        }
        for _ in 0..<150 {  // invalid UTF-8 inside string values
            var f = fixtures.randomElement(using: &rng)!
            let quotes = f.indices.filter { f[$0] == UInt8(ascii: "\"") }
            let at = quotes.randomElement(using: &rng)! + 1
            f.insert(contentsOf: [[0xFF], [0xC3], [0xED, 0xA0, 0x80], [0xF8, 0x88]].randomElement(using: &rng)!, at: at)
            cases.append(("invalid-utf8", "/webhooks/whatsapp", f, json))
        }
        for n in 0..<50 { cases.append(("invalid-utf8", "/webhooks/twilio", Array("To=%2B1555&Body=%FF%FE\(n)".utf8), formType)) }
        for n in 0..<100 {  // deep nesting, inside and outside the envelope
            let depth = [100, 200, 1000, 10_000][n % 4]
            let nested =
                n % 2 == 0
                ? String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
                : String(repeating: "{\"a\":", count: depth) + "1" + String(repeating: "}", count: depth)
            let body = n % 3 == 0 ? nested : "{\"object\":\"whatsapp_business_account\",\"entry\":[\(nested)]}"
            cases.append(("nesting", n % 5 == 0 ? "/webhooks/email" : "/webhooks/whatsapp", Array(body.utf8), json))
        }
        for n in 0..<100 {  // huge numbers where ids and text belong
            let number = ["1e999999", "-1e400", "123456789012345678901234567890123456789e99999", String(repeating: "9", count: 5000)][n % 4]
            let body =
                n % 2 == 0
                ? "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\(number),\"changes\":[]}]}"
                : "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"changes\":[{\"field\":\"messages\",\"value\":{\"metadata\":{\"phone_number_id\":\(number)}}}]}]}"
            cases.append(("huge-number", "/webhooks/whatsapp", Array(body.utf8), json))
        }
        for n in 0..<150 {  // the right body with the wrong content type
            let (path, body, types): (String, [UInt8], [String?]) =
                switch n % 3 {
                case 0: ("/webhooks/whatsapp", fixtures[0], ["text/plain", nil, "multipart/form-data; boundary=x", formType])
                // (no Content-Type at all is not sendable here: libcurl labels a POST body as a form by itself)
                case 1: ("/webhooks/twilio", form, [json, "text/plain", "application/octet-stream", "application/xml"])
                default: ("/webhooks/email", email, [formType, "text/html", nil, "image/png"])
                }
            cases.append(("content-type", path, body, types[n / 3 % types.count]))
        }
        for n in 0..<50 {  // 2 MB bodies
            let path = ["/webhooks/whatsapp", "/webhooks/twilio", "/webhooks/email"][n % 3]
            cases.append(("too-large", path, [UInt8](repeating: UInt8(ascii: "a"), count: 2 << 20), path.hasSuffix("twilio") ? formType : json))
        }
        for n in 0..<150 {  // random bytes, and forms that are not Twilio's
            if n % 2 == 0 {
                cases.append(
                    (
                        "garbage", "/webhooks/whatsapp",
                        (0..<Int.random(in: 1...512, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }, json
                    ))
            } else {
                let bodies = ["%", "a=%zz", "=x", "To=", "Body=hello", "To=%2B1&To", "%E0%A4%A"]
                cases.append(("bad-form", "/webhooks/twilio", Array(bodies[n / 2 % bodies.count].utf8), formType))
            }
        }
        #expect(cases.count == 1000)

        var statuses: [String: [Int: Int]] = [:]
        var wrong: [String] = []
        for (i, c) in cases.enumerated() {
            // Sign WhatsApp bodies with the right secret, so each is judged on its content, not only its signature.
            let headers = c.path.hasSuffix("whatsapp") ? [("X-Hub-Signature-256", WebhookHarness.metaSignature(c.body, h.appSecret))] : []
            let response = try await h.post(c.path, c.body, contentType: c.type, headers: headers)
            statuses[c.kind, default: [:]][response.status, default: 0] += 1
            if !(400..<500).contains(response.status) { wrong.append("#\(i) \(c.kind) \(c.path) → \(response.status)") }
        }
        print("hostile input, status counts by kind: \(statuses.sorted { $0.key < $1.key })")
        #expect(wrong.isEmpty, "\(wrong.prefix(10))")
        #expect(try await h.queuedJobs == 0)
        #expect(kill(h.web!.pid, 0) == 0, "the web process died")
        #expect(try await h.http.execute(.init(url: "http://127.0.0.1:\(h.web!.port)/healthz")).status == 200)
        try await h.shutdown()
    }
}
