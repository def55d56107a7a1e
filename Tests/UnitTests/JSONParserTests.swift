import Foundation
import Jobs
import SwitchboardQueue
import Testing
import SwitchboardJSON

@Suite("JSON parser")
struct JSONParserTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/webhooks")

    @Test func everyJSONFixtureParsesAsJSONDecoderReadsIt() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.fixtures.path).filter { $0.hasSuffix(".json") }
        #expect(names.count >= 25)
        for name in names {
            let bytes = Array(try Data(contentsOf: Self.fixtures.appendingPathComponent(name)))
            let reference = try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
            #expect(try JSONValue.parse(bytes) == reference, "\(name)")
        }
    }

    @Test(arguments: [
        (
            #"{"a":[1,-2.5e3,true,false,null,"x"]}"#,
            JSONValue.object(["a": .array([.number(1), .number(-2500), .bool(true), .bool(false), .null, .string("x")])])
        ),
        (#" "\u00e9\ud83d\ude00\n\"\\\/" "#, .string("é😀\n\"\\/")),
        ("[]", .array([])), ("{}", .object([:])), ("0", .number(0)), ("-0.5", .number(-0.5)), ("\"Olá\"", .string("Olá")),
    ])
    func validTextsParse(_ text: String, _ expected: JSONValue) throws {
        #expect(try JSONValue.parse(Array(text.utf8)) == expected)
    }

    @Test(arguments: [
        "", " ", "{", "[1,", "{\"a\"}", "{\"a\":}", "[1 2]", "01", "1.", "-", "+1", ".5", "1e", "tru", "nul", "\"abc", "\"\\x\"",
        "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"a\tb\"", "1e999", "-1e400", "[1]x", "{\"a\":1,}", "[1,]", "'a'",
    ])
    func invalidTextsFail(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(Array(text.utf8)) }
    }

    @Test func invalidUTF8AndDeepNestingFail() {
        #expect(throws: JSONParseError.self) { try JSONValue.parse([0x22, 0xFF, 0x22]) }
        #expect(throws: JSONParseError.self) { try JSONValue.parse([0x22, 0xED, 0xA0, 0x80, 0x22]) }  // an encoded surrogate
        let deep = String(repeating: "[", count: 129) + String(repeating: "]", count: 129)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(Array(deep.utf8)) }
        let ok = String(repeating: "[", count: 128) + String(repeating: "]", count: 128)
        #expect((try? JSONValue.parse(Array(ok.utf8))) != nil)
        let huge = String(repeating: "[", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(Array(huge.utf8)) }
    }
}

@Suite("JSON writer and job payloads")
struct JSONWriterTests {
    @Test func serialisedFixturesParseBackToTheSameValue() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: JSONParserTests.fixtures.path).filter { $0.hasSuffix(".json") }
        for name in names {
            let value = try JSONValue.parse(Array(try Data(contentsOf: JSONParserTests.fixtures.appendingPathComponent(name))))
            let text = value.serialized()
            #expect(try JSONValue.parse(text) == value, "\(name)")
            #expect(try JSONDecoder().decode(JSONValue.self, from: Data(text)) == value, "\(name)")
        }
        let tricky = JSONValue.object([
            "q\"uote": .string("a\\b\n\t\u{01}é😀"), "n": .array([.number(1), .number(-2.5), .number(1e300), .null, .bool(false)]),
        ])
        #expect(try JSONValue.parse(tricky.serialized()) == tricky)
        #expect(String(decoding: JSONValue.object(["b": .number(2), "a": .number(1)]).serialized(), as: UTF8.self) == #"{"a":1,"b":2}"#)
    }

    @Test func handWrittenJobPayloadsDecodeAsTheirCodableTypes() throws {
        let event = try JSONValue.parse(Array(#"{"id":"wamid.1","type":"text","text":{"body":"Olá \"you\""},"timestamp":"1697043223"}"#.utf8))
        let contact = try JSONValue.parse(Array(#"{"wa_id":"15550001","profile":{"name":"Ana"}}"#.utf8))
        for message in [
            IngestMessage(tenant: UUID(), channel: UUID(), provider: .whatsapp, event: event, contact: contact, receivedAtMs: 1_763_900_000_123),
            IngestMessage(tenant: UUID(), channel: UUID(), provider: .email, event: event, contact: nil, receivedAtMs: 0),
        ] {
            let decoded = try JSONDecoder().decode(IngestMessage.self, from: Data(message.payload()))
            #expect(decoded.tenant == message.tenant && decoded.channel == message.channel && decoded.provider == message.provider)
            #expect(decoded.event == message.event && decoded.contact == message.contact && decoded.receivedAtMs == message.receivedAtMs)
        }
        let status = MessageStatusUpdate(tenant: UUID(), channel: UUID(), provider: .twilio, event: event, receivedAtMs: 42)
        let back = try JSONDecoder().decode(MessageStatusUpdate.self, from: Data(status.payload()))
        #expect(back.tenant == status.tenant && back.event == status.event && back.receivedAtMs == 42 && back.provider == .twilio)
    }
}
