import SwitchboardStore
import Testing

@Suite("SecretBox")
struct SecretBoxTests {
    @Test func sealsAndOpensBoundToItsContext() throws {
        let box = try SecretBox(base64Key: SecretBox.generateKey())
        let sealed = try box.seal(Array("app-secret".utf8), context: "channel-1")
        #expect(try box.open(sealed, context: "channel-1") == Array("app-secret".utf8))
        #expect(!String(decoding: sealed, as: UTF8.self).contains("app-secret"))
        #expect(try box.seal(Array("app-secret".utf8), context: "channel-1") != sealed)  // fresh nonce each time
        #expect(throws: SecretBoxError.self) { try box.open(sealed, context: "channel-2") }
        var tampered = sealed
        tampered[tampered.count - 1] ^= 1
        #expect(throws: SecretBoxError.self) { try box.open(tampered, context: "channel-1") }
        #expect(throws: SecretBoxError.self) { try SecretBox(base64Key: SecretBox.generateKey()).open(sealed, context: "channel-1") }
    }

    @Test func refusesAKeyOfTheWrongSize() {
        let error = #expect(throws: SecretBoxError.self) { try SecretBox(base64Key: "c2hvcnQ=") }
        #expect(error?.description.contains("switchboard secret-key") == true)
    }
}
