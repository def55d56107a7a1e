import Foundation
@testable import SwitchboardQueue
import Testing

@Suite("Job ids")
struct JobIDTests {
    @Test func idsAreLowerCaseVersion4UUIDsWithoutRepeats() throws {
        // One at a time and in a batch (whose random bytes are drawn at once).
        let ids = (0..<50_000).map { _ in JobID.make() } + JobID.make(count: 50_000)
        #expect(Set(ids).count == ids.count)
        for id in ids.prefix(1_000) + ids.suffix(1_000) {
            #expect(id.utf8.count == 36)
            // Foundation reads it back as the same UUID: the text is well-formed.
            let parsed = try #require(UUID(uuidString: id))
            #expect(parsed.uuidString.lowercased() == id)
            let hex = Array(id.utf8)
            #expect(hex[14] == UInt8(ascii: "4"))  // version 4
            #expect("89ab".utf8.contains(hex[19]))  // RFC 4122 variant
        }
        // Every hex digit position varies (apart from the fixed version and variant bits).
        for position in [0, 7, 9, 15, 20, 35] {
            #expect(Set(ids.prefix(1_000).map { Array($0.utf8)[position] }).count > 8)
        }
    }

    @Test(arguments: ["default", "ingest", "a.b-c_9", String(repeating: "q", count: 64)])
    func validQueueNamesPass(_ name: String) throws {
        try QueueKeys.validate(name)
    }

    @Test(arguments: ["", "has space", "brace{", "naïve", "emoji😀", String(repeating: "q", count: 65), "slash/"])
    func invalidQueueNamesFailWithTheRule(_ name: String) {
        let error = #expect(throws: QueueError.self) { try QueueKeys.validate(name) }
        #expect(error?.message.contains("1-64 letters, digits") == true)
    }
}
