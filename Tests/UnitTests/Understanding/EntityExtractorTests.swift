import Logging
import Synchronization
import Testing

@testable import SwitchboardUnderstanding

@Suite("Entities and PII")
struct EntityExtractorTests {
    let extractor = EntityExtractor(defaultCallingCode: "1")

    func values(_ text: String, _ kind: Entity.Kind) -> [String] { extractor.extract(text).filter { $0.kind == kind }.map(\.value) }

    @Test func orderAndInvoiceIDs() {
        #expect(values("can you help me cancel order 00004587345?", .orderID) == ["00004587345"])
        #expect(values("what is order #A-10293 status", .orderID) == ["A-10293"])
        #expect(values("¿dónde está mi pedido número 77812?", .orderID) == ["77812"])
        #expect(values("help to remove an item from order number 113542617735902", .orderID) == ["113542617735902"])
        #expect(values("check invoice #12588", .invoiceID) == ["12588"])
        #expect(values("find my bill #00108 please", .invoiceID) == ["00108"])
        #expect(values("necesito la factura 4512", .invoiceID) == ["4512"])
        #expect(values("my invoice, #12588, is wrong", .invoiceID) == ["12588"])
    }

    @Test func amountsWithCurrency() {
        let found = extractor.extract("I paid $160 for this, then 12,50 € and 350 dollars and MX$1,200.00")
            .filter { $0.kind == .amount }.map { "\($0.value) \($0.currency ?? "?")" }
        #expect(found == ["160 USD", "12.50 EUR", "350 USD", "1200.00 MXN"])
        #expect(values("son 45 pesos", .amount) == ["45"])
    }

    @Test func emailsAndPhonesInE164() {
        #expect(values("write to Ana.Lopez+orders@Example.com.", .email) == ["ana.lopez+orders@example.com"])
        #expect(values("call me at (415) 555-0100", .phone) == ["+14155550100"])
        #expect(values("my whatsapp is +34 612 345 678", .phone) == ["+34612345678"])
        #expect(values("mi teléfono: 0034 612345678", .phone) == ["+34612345678"])
        // A long number after "order" is an order id, not a phone.
        #expect(values("order 732201349959 status", .phone).isEmpty)
    }

    @Test func namesPlacesAndDates() {
        #expect(values("see bill from Mr. Smith", .personName) == ["Mr. Smith"])
        #expect(values("need help to check my bill from Anna Freeman", .personName) == ["Anna Freeman"])
        #expect(values("hola, me llamo María José", .personName) == ["María José"])
        #expect(values("my name is john", .personName) == ["john"])
        #expect(values("I'm hungry", .personName).isEmpty)
        #expect(values("do you ship to Philadelphia?", .city) == ["Philadelphia"])
        #expect(values("envían a España o a Ciudad de México?", .country) == ["Spain"])
        #expect(values("envían a España o a Ciudad de México?", .city) == ["Mexico City"])
        #expect(values("can I order from USA", .country) == ["United States"])
        #expect(values("deliver on 2026-12-24 or 24/12", .date) == ["2026-12-24", "24/12"])
        #expect(values("para el 5 de mayo", .date) == ["--05-05"])
        #expect(values("pasado mañana por la mañana", .date) == ["pasado manana"])
        #expect(values("may I order tomorrow", .date) == ["tomorrow"])
    }

    @Test func spansPointAtTheText() {
        let text = "héllo, order 12345 from Anna Freeman"
        let scalars = Array(text.unicodeScalars)
        for entity in extractor.extract(text) {
            #expect(String(String.UnicodeScalarView(scalars[entity.start..<entity.end])) == entity.text)
        }
    }

    @Test func redactRemovesPersonalData() {
        let text = "I'm Anna Freeman, email anna.freeman@example.com, phone +1 415 555 0100, card 4111 1111 1111 1111, order 12345"
        let redacted = PIIRedactor.redact(text)
        for secret in ["Anna", "Freeman", "anna.freeman", "415", "4111"] { #expect(!redacted.contains(secret), "\(redacted)") }
        #expect(redacted.contains("order 12345"))
        #expect(redacted.contains("[email]") && redacted.contains("[phone]") && redacted.contains("[card]") && redacted.contains("[name]"))
    }

    @Test func personalDataNeverReachesALogLine() {
        let sink = LineSink()
        let capture = CapturingHandler(sink: sink)
        var logger = Logger(label: "test", factory: { _ in RedactingLogHandler(wrapping: capture) })
        logger.logLevel = .trace
        let turn = "Hola, soy María López. Mi correo es maria.lopez@example.com y mi número +52 55 1234 5678; pedido 88123"
        logger[metadataKey: "customer"] = "\(turn)"
        logger.info("understood turn: \(turn)", metadata: ["text": "\(turn)", "parts": .array(["\(turn)"])])
        logger.error("could not answer", metadata: ["detail": .dictionary(["turn": "\(turn)"])])
        let written = sink.lines.withLock { $0 }.joined(separator: "\n")
        #expect(written.contains("88123"))
        for secret in ["María", "López", "maria.lopez", "example.com", "1234 5678", "55 1234"] { #expect(!written.contains(secret), "\(written)") }
    }

    @Test(
        "hostile input neither crashes nor hangs",
        arguments: [
            "", String(repeating: "a", count: 100_000), String(repeating: "🙂", count: 2_000), String(repeating: "order ", count: 10_000),
            String(repeating: "1", count: 50_000), String(repeating: "@.", count: 20_000), String(repeating: "Mr. ", count: 5_000),
            String(decoding: [0xff, 0xfe, 0x41, 0xc3, 0x28] + Array("order 123456".utf8), as: UTF8.self),
        ])
    func hostile(_ text: String) {
        let started = ContinuousClock.now
        _ = extractor.extract(text)
        _ = PIIRedactor.redact(text)
        _ = TurnSegmenter().segments(text)
        _ = SentimentAnalyzer.analyze(text)
        _ = LanguageDetector.detect(text)
        #expect(ContinuousClock.now - started < .seconds(5))
    }
}

final class LineSink: Sendable {
    let lines = Mutex<[String]>([])
}

struct CapturingHandler: LogHandler {
    let sink: LineSink
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        sink.lines.withLock { $0.append("\(event.message) \(all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))") }
    }
}
