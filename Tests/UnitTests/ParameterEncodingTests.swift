@testable import SwitchboardQueue
import Testing

/// Parameters whose JSON has every character the array splitter must not cut at.
struct TrickyParameters: JobParameters {
    static let jobName = "test-tricky"
    var text: String
    var list: [String]
    var nested: [String: [Int]]
    var flag: Bool?
}

@Suite("Encoding a batch of parameters")
struct ParameterEncodingTests {
    @Test func aBatchEncodesExactlyAsEachParameterAlone() throws {
        let texts = [
            "plain", "comma, inside", "brackets ] [ } {", "quote \" and backslash \\", "ends with backslash \\\\", "\\\"", "ñandú 😀",
            "", "line\nbreak\ttab", "[\"fake\",\"array\"]",
        ]
        let batch = texts.enumerated().map { i, t in
            TrickyParameters(text: t, list: [t, ",", "]"], nested: ["k,\(i)": [i, -i], "{": []], flag: i % 2 == 0 ? nil : true)
        }
        let together = try encodeParameters(batch)
        let alone = try batch.map { try encodeParameters($0) }
        #expect(together == alone)
    }

    @Test func theSplitterRefusesWhatIsNotAPlainArray() {
        #expect(JSONArraySplitter.elements(of: Array("{\"a\":1}".utf8)) == nil)
        #expect(JSONArraySplitter.elements(of: Array("[1,2".utf8)) == nil)
        #expect(JSONArraySplitter.elements(of: Array("[\"open]".utf8)) == nil)
        #expect(
            JSONArraySplitter.elements(of: Array("[1,[2,3],{\"a\":[4]}]".utf8)).map { $0.map { String(decoding: $0, as: UTF8.self) } } == [
                "1", "[2,3]", "{\"a\":[4]}",
            ])
    }
}
