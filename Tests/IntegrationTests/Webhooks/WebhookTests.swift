import Foundation
import Jobs
import SwitchboardHTTP
import SwitchboardPostgres
import SwitchboardQueue
import SwitchboardStore
import SwitchboardWebhooks
import Testing
import SwitchboardJSON

/// `switchboard web` as providers see it, with the worker storing what it enqueued in PostgreSQL.
@Suite("Webhooks", .timeLimit(.minutes(4)))
struct WebhookTests {
    func json(_ response: HTTPClient.Response) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
    }

    /// Every WhatsApp message fixture: one job each, then one row with the right type.
    static let messageFixtures: [(file: String, type: String)] = [
        ("wa_text.json", "text"), ("wa_text_reply_with_context.json", "text"), ("wa_image.json", "image"),
        ("wa_audio_voice_note.json", "audio"), ("wa_location.json", "location"), ("wa_interactive_button_reply.json", "interactive"),
        ("wa_interactive_list_reply.json", "interactive"), ("wa_template_quick_reply_button.json", "button"), ("wa_reaction.json", "reaction"),
        ("wa_reaction_removed_empty_emoji.json", "reaction"), ("wa_unsupported_type.json", "unsupported"),
        ("wa_interactive_missing_body.json", "unsupported"), ("wa_order_from_catalog.json", "order"),
        ("wa_system_number_changed_no_contacts.json", "system"), ("wa_bsuid_only_no_from_no_wa_id.json", "text"),
        ("wa_contact_without_profile.json", "text"),
    ]

    @Test func everyWhatsAppFixtureBecomesItsJobsAndRows() async throws {
        let h = try await WebhookHarness.make()
        var expected: [String: String] = [:]
        // The fixtures reuse a few placeholder ids (wamid.xyzxyz): each gets its own id here, as Meta's would be.
        for (n, fixture) in Self.messageFixtures.enumerated() {
            let original = try h.routed(fixture.file)
            let placeholder = try #require(Self.messageID(in: original))
            let id = "\(placeholder)-\(n)"
            let body = Array(String(decoding: original, as: UTF8.self).replacingOccurrences(of: "\"\(placeholder)\"", with: "\"\(id)\"").utf8)
            let response = try await h.whatsapp(body)
            #expect(response.status == 200, "\(fixture.file): \(String(decoding: response.body, as: UTF8.self))")
            #expect(json(response)["accepted"] as? Int == 1, "\(fixture.file)")
            #expect(try await h.queuedJobs == n + 1, "\(fixture.file)")
            expected[id] = fixture.type
        }
        try await h.drain()
        let rows = try await h.rows("SELECT provider_message_id, type FROM messages")
        #expect(Dictionary(uniqueKeysWithValues: rows.map { ($0["provider_message_id"]!, $0["type"]!) }) == expected)
        // The BSUID-only sender is a customer with a wa_bsuid identity and no phone.
        let bsuid = try await h.rows(
            "SELECT i2.kind FROM customer_identities i JOIN customer_identities i2 ON i2.customer_id = i.customer_id WHERE i.kind = 'wa_bsuid' AND i.value = 'BSUID_123'"
        )
        #expect(bsuid.map { $0["kind"] } == ["wa_bsuid"])
        // A quoted message keeps its reference; the customer without a profile has no display name.
        let reply = try await h.rows("SELECT reply_to_provider_id FROM messages WHERE provider_message_id = 'wamid.xyzxyz-1'")
        #expect(reply.first?["reply_to_provider_id"] != nil)
        try await h.shutdown()
    }

    @Test func aBatchedPostStoresEveryEventAndADuplicateIdOnce() async throws {
        let h = try await WebhookHarness.make()
        // The fixture's two changes carry the same placeholder id: one message, delivered twice in one POST.
        let verbatim = try h.routed("wa_batch_two_changes_one_entry.json")
        let once = try await h.whatsapp(verbatim)
        #expect(json(once)["accepted"] as? Int == 1)
        // The receiver marked the message in the same round trip as its job (ingest clears the mark once it stores it).
        let sender = "\(h.channels[.whatsapp]!):PHONE_NUMBER"
        #expect(try await IntakeMarks(redis: h.redis).pending(senders: [sender], sinceMs: 0) == 1)
        // With distinct ids (as Meta sends them), both events become jobs and rows.
        let text = String(decoding: verbatim, as: UTF8.self)
        var distinct = text
        if let last = text.range(of: "wamid.ID", options: .backwards) { distinct.replaceSubrange(last, with: "wamid.ID2") }
        let both = try await h.whatsapp(Array(distinct.utf8))
        #expect(json(both)["accepted"] as? Int == 2)
        #expect(try await h.queuedJobs == 2)  // wamid.ID was already queued: only wamid.ID2 is new
        try await h.drain()
        let rows = try await h.rows("SELECT provider_message_id, text FROM messages ORDER BY provider_message_id")
        #expect(rows.map { $0["provider_message_id"] } == ["wamid.ID", "wamid.ID2"])
        #expect(rows.map { $0["text"] } == ["MESSAGE_BODY", "MESSAGE_BODY2"])
        // A provider retry of the same POST after the rows exist adds nothing.
        #expect(try await h.whatsapp(Array(distinct.utf8)).status == 200)
        #expect(try await h.queuedJobs == 0)
        try await h.shutdown()
    }

    @Test func unknownNumbersAreAnsweredAndDropped() async throws {
        let h = try await WebhookHarness.make()
        let sample = try WebhookHarness.fixture("wa_meta_dashboard_test_sample.json")
        let response = try await h.post("/webhooks/whatsapp", sample, contentType: "application/json")
        #expect(response.status == 200)
        #expect(json(response)["dropped"] as? Int == 1)
        #expect(try await h.queuedJobs == 0)
        #expect(
            try await h.post("/webhooks/email", Array(#"{"ToFull":[{"Email":"nobody@nowhere.test"}]}"#.utf8), contentType: "application/json").status
                == 200)
        #expect(try await h.queuedJobs == 0)
        try await h.shutdown()
    }

    @Test func theHandshakeEchoesTheChallengeOnlyForAKnownToken() async throws {
        let h = try await WebhookHarness.make()
        // Meta's sample request, with this channel's verify token in place of the sample's.
        let sample = String(decoding: try WebhookHarness.fixture("wa_verify_handshake_get.txt"), as: UTF8.self)
        let line = try #require(sample.split(separator: "\n").first { $0.hasPrefix("GET ") })
        let query = String(try #require(line.split(separator: " ")[1].split(separator: "?").last))
        let mine = query.replacingOccurrences(of: "hub.verify_token=meatyhamhock", with: "hub.verify_token=\(h.verifyToken)")
        let base = "http://127.0.0.1:\(h.web!.port)/webhooks/whatsapp?hub.mode=subscribe&hub.challenge=1158201444"
        let ok = try await h.http.execute(.init(url: "http://127.0.0.1:\(h.web!.port)/webhooks/whatsapp?" + mine))
        #expect(ok.status == 200)
        #expect(String(decoding: ok.body, as: UTF8.self) == "1158201444")
        #expect(ok.header("Content-Type") == "text/plain")
        #expect(try await h.http.execute(.init(url: base + "&hub.verify_token=wrong")).status == 403)
        try await h.shutdown()
    }

    @Test func signaturesMustMatchTheRawBytes() async throws {
        let h = try await WebhookHarness.make()
        let body = try h.routed("wa_text.json")
        let signature = WebhookHarness.metaSignature(body, h.appSecret)
        // One byte changed in the message text (the JSON stays valid, so only the signature can catch it) → 401.
        var flippedBody = body
        let textAt = try #require(body.firstRange(of: Array("Body Text".utf8))).lowerBound
        flippedBody[textAt] ^= 0x20  // "body Text"
        var flippedSignature = Array(signature.utf8)
        flippedSignature[flippedSignature.count - 1] = flippedSignature.last == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        for (bytes, header) in [(flippedBody, signature), (body, String(decoding: flippedSignature, as: UTF8.self)), (body, "")] {
            let response = try await h.post("/webhooks/whatsapp", bytes, contentType: "application/json", headers: [("X-Hub-Signature-256", header)])
            #expect(response.status == 401)
        }
        // A change that breaks the JSON is a 400 before any signature is looked at (the route needs the body).
        var broken = body
        broken[0] = UInt8(ascii: "x")
        #expect(
            try await h.post("/webhooks/whatsapp", broken, contentType: "application/json", headers: [("X-Hub-Signature-256", signature)]).status
                == 400)
        let unsignedBody = try await h.post("/webhooks/whatsapp", body, contentType: "application/json")
        #expect(unsignedBody.status == 401)
        #expect(json(unsignedBody)["error"] as? String == "bad_signature")
        #expect(try await h.queuedJobs == 0)
        #expect(
            try await h.post("/webhooks/whatsapp", body, contentType: "application/json", headers: [("X-Hub-Signature-256", signature)]).status == 200
        )
        #expect(try await h.queuedJobs == 1)

        // Twilio: a one-byte change of the body or the signature fails too.
        let form = String(decoding: try WebhookHarness.fixture("twilio_sms_multiline_body.txt"), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(
                of: "To=%2B15005550006", with: "To=" + h.twilioNumber.replacingOccurrences(of: "+", with: "%2B"))
        let parameters = try FormBody.parse(Array(form.utf8))
        let good = WebhookSignature.twilio(url: WebhookHarness.publicURL + "/webhooks/twilio", parameters: parameters, authToken: h.twilioToken)
        let tampered = form.replacingOccurrences(of: "Body=This", with: "Body=this")
        #expect(
            try await h.post(
                "/webhooks/twilio", Array(tampered.utf8), contentType: "application/x-www-form-urlencoded", headers: [("X-Twilio-Signature", good)]
            ).status == 401)
        #expect(
            try await h.post(
                "/webhooks/twilio", Array(form.utf8), contentType: "application/x-www-form-urlencoded",
                headers: [("X-Twilio-Signature", (good.first == "A" ? "B" : "A") + good.dropFirst())]
            ).status == 401)
        #expect(try await h.queuedJobs == 1)
        #expect(try await h.twilio(form).status == 200)
        #expect(try await h.queuedJobs == 2)
        try await h.shutdown()
    }

    @Test func aTwilioStatusCallbackIsRoutedByOurNumberAndResolvesOurSendByItsReference() async throws {
        let h = try await WebhookHarness.make()
        // An outbound message whose send may have gone out with no answer recorded: only our reference names it.
        let reference = "sb-\(UUID().uuidString.lowercased())"
        try await h.db.withTenant(h.tenant) { [channel = h.channels[.twilio]!, tenant = h.tenant] conn in
            let customer: UUID = try conn.query("INSERT INTO customers (tenant_id) VALUES ($1) RETURNING id", [.uuid(tenant)])[0].decode("id")
            let conversation: UUID = try conn.query(
                "INSERT INTO conversations (tenant_id, customer_id, channel_id) VALUES ($1, $2, $3) RETURNING id",
                [.uuid(tenant), .uuid(customer), .uuid(channel)])[0].decode("id")
            try conn.execute(
                """
                INSERT INTO messages (tenant_id, channel_id, conversation_id, provider_message_id, direction, type, text, raw, send_state,
                                      send_reference, send_started_at)
                VALUES ($1, $2, $3, $4, 'outbound', 'text', 'ok', '{}', 'uncertain', $4, now())
                """, [.uuid(tenant), .uuid(channel), .uuid(conversation), .text(reference)])
        }
        let number = h.twilioNumber.replacingOccurrences(of: "+", with: "%2B")
        let form = "MessageSid=SM0123456789abcdef&MessageStatus=delivered&From=\(number)&To=%2B15550001111&AccountSid=AC1&ApiVersion=2010-04-01"
        let path = "/webhooks/twilio?sb_ref=\(reference)"
        let signature = WebhookSignature.twilio(
            url: WebhookHarness.publicURL + path, parameters: try FormBody.parse(Array(form.utf8)), authToken: h.twilioToken)
        let response = try await h.post(
            path, Array(form.utf8), contentType: "application/x-www-form-urlencoded", headers: [("X-Twilio-Signature", signature)])
        #expect(response.status == 200)
        try await h.drain()
        let row = try #require(
            try await h.rows("SELECT provider_message_id, send_state, provider_status FROM messages WHERE send_reference = $1", [.text(reference)])
                .first)
        #expect(row["provider_message_id"] == "SM0123456789abcdef" && row["send_state"] == "sent" && row["provider_status"] == "delivered")
        try await h.shutdown()
    }

    @Test func twilioAndEmailFixturesBecomeRows() async throws {
        let h = try await WebhookHarness.make()
        let files = [
            "twilio_sms_multiline_body.txt", "twilio_sms_body_with_plus_comma_equals.txt", "twilio_whatsapp_text_utf8.txt",
            "twilio_whatsapp_image_media.txt",
        ]
        for file in files {
            var form = String(decoding: try WebhookHarness.fixture(file), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            let to = try #require(FormBody.parse(Array(form.utf8)).first { $0.0 == "To" }?.1)
            let mine = to.hasPrefix("whatsapp:") ? "whatsapp:" + h.twilioNumber : h.twilioNumber
            form = form.replacingOccurrences(of: "To=" + Self.formEncode(to), with: "To=" + Self.formEncode(mine))
            let response = try await h.twilio(form)
            #expect(response.status == 200, "\(file): \(String(decoding: response.body, as: UTF8.self))")
        }
        #expect(try await h.queuedJobs == 4)
        // Postmark inbound, routed by a plus-addressed recipient, authenticated by basic auth.
        var mail = String(decoding: try WebhookHarness.fixture("email_postmark_inbound.json"), as: UTF8.self)
        let local = h.emailAddress.split(separator: "@")[0]
        mail = mail.replacingOccurrences(
            of: "451d9b70cf9364d23ff6f9d51d870251569e+ahoy@inbound.postmarkapp.com", with: "\(local)+ahoy@inbound.switchboard.test")
        let auth = "Basic " + Data("postmark:\(h.emailToken)".utf8).base64EncodedString()
        #expect(
            try await h.post(
                "/webhooks/email", Array(mail.utf8), contentType: "application/json",
                headers: [("Authorization", "Basic " + Data("postmark:wrong".utf8).base64EncodedString())]
            ).status == 401)
        let emailed = try await h.post("/webhooks/email", Array(mail.utf8), contentType: "application/json", headers: [("Authorization", auth)])
        #expect(emailed.status == 200, "\(String(decoding: emailed.body, as: UTF8.self))")
        #expect(try await h.queuedJobs == 5)
        try await h.drain()
        let rows = try await h.rows("SELECT provider_message_id, type, text FROM messages")
        let stored = Dictionary(uniqueKeysWithValues: rows.map { ($0["provider_message_id"]!, "\($0["type"]!): \($0["text"] ?? "-")") })
        #expect(
            stored == [
                "SM6e0070f7f27433fd07982cbf770d4834": "text: This is \n\nA test \n\nTo see",
                "SM60566ee207e123ee2765abcc55c9b9c9": "text: hi there, 2+3=4",
                try #require(FormBody.parse(try WebhookHarness.fixture("twilio_whatsapp_text_utf8.txt")).first { $0.0 == "MessageSid" }?.1):
                    "text: Olá",
                "MM34b3ee6de346ba069213c6be8404190e": "image: Hu",
                "<CAGXpo2WKfxHWZ5UFYCR3H_J9SNMG+5AXUovfEFL6DjWBJSyZaA@mail.gmail.com>": "email: \(try Self.emailText())",
            ])
        let identities = Set(try await h.rows("SELECT kind FROM customer_identities").compactMap { $0["kind"] })
        #expect(identities == ["phone", "wa_id", "email"])
        try await h.shutdown()
    }

    @Test func outOfOrderStatusesEndInTheHighestStatus() async throws {
        let h = try await WebhookHarness.make()
        // An outbound message the statuses are about (sending is not Switchboard's yet: insert it directly).
        let message = "wamid.out-\(UUID().uuidString.prefix(8))"
        let failing = "wamid.fail-\(UUID().uuidString.prefix(8))"
        let channel = h.channels[.whatsapp]!
        _ = try await h.rows("INSERT INTO customers (id, tenant_id) VALUES ($1, $2)", [.uuid(h.tenant), .uuid(h.tenant)])
        _ = try await h.rows(
            "INSERT INTO conversations (id, tenant_id, customer_id, channel_id) VALUES ($1, $1, $1, $2)", [.uuid(h.tenant), .uuid(channel)])
        for id in [message, failing] {
            _ = try await h.rows(
                "INSERT INTO messages (tenant_id, channel_id, conversation_id, provider_message_id, direction, type, raw) VALUES ($1, $2, $1, $3, 'outbound', 'text', '{}')",
                [.uuid(h.tenant), .uuid(channel), .text(id)])
        }
        func status(_ name: String, for id: String) async throws {
            let body = String(decoding: try h.routed("wa_status_\(name).json"), as: UTF8.self).replacingOccurrences(of: "wamid.xyzxyz", with: id)
            #expect(try await h.whatsapp(Array(body.utf8)).status == 200)
            try await h.drain()  // one at a time, so the order of arrival is the order of application
        }
        for name in ["read", "sent", "delivered", "delivered"] { try await status(name, for: message) }
        for name in ["delivered", "failed", "read"] { try await status(name, for: failing) }
        let rows = try await h.rows("SELECT provider_message_id, provider_status FROM messages WHERE direction = 'outbound'")
        let final = Dictionary(uniqueKeysWithValues: rows.map { ($0["provider_message_id"]!, $0["provider_status"]!) })
        #expect(final == [message: "read", failing: "failed"])
        let events = try await h.rows("SELECT status FROM message_status_events WHERE provider_message_id = $1 ORDER BY status", [.text(message)])
        #expect(events.map { $0["status"] } == ["delivered", "read", "sent"])
        try await h.shutdown()
    }

    @Test func withRedisDownAPostGets503AndTheRetryStoresOneRow() async throws {
        let server = try await RedisServerProcess()
        let h = try await WebhookHarness.make(redisURL: server.url)
        let body = try h.routed("wa_text.json")
        await server.stop()
        let clock = ContinuousClock()
        let start = clock.now
        let refused = try await h.whatsapp(body)
        let took = clock.now - start
        #expect(refused.status == 503)
        #expect(refused.header("Retry-After") == "5")
        #expect(took < .seconds(5), "503 took \(took)")
        try await server.start()
        let retried = try await h.whatsapp(body)
        #expect(retried.status == 200, "\(String(decoding: retried.body, as: UTF8.self))")
        #expect(try await h.whatsapp(body).status == 200)  // and a second provider retry
        try await h.drain()
        let rows = try await h.rows("SELECT id FROM messages WHERE provider_message_id = 'wamid.xyzxyz'")
        #expect(rows.count == 1)
        print("redis down: 503 in \(took)")
        try await h.shutdown()
        await server.stop()
    }

    static func messageID(in body: [UInt8]) -> String? {
        let value = try? JSONDecoder().decode(JSONValue.self, from: Data(body))
        return value?["entry"]?.elements.first?["changes"]?.elements.first?["value"]?["messages"]?.elements.first?["id"]?.string
    }

    /// Subject and text body of the email fixture, as the ingest job joins them.
    static func emailText() throws -> String {
        let mail = try JSONDecoder().decode(JSONValue.self, from: Data(try WebhookHarness.fixture("email_postmark_inbound.json")))
        return [mail["Subject"]?.string, mail["TextBody"]?.string].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: "\n\n")
    }

    static func formEncode(_ s: String) -> String {
        s.replacingOccurrences(of: "+", with: "%2B").replacingOccurrences(of: ":", with: "%3A")
    }
}
