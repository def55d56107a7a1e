@testable import SwitchboardWebhooks
import Testing

/// The receiver's Content-Type check: a case-insensitive ASCII search, as `lowercased().contains` was.
@Suite("Content-Type matching")
struct ContentTypeMatchTests {
    @Test(arguments: [
        ("application/json", "json", true), ("Application/JSON; charset=UTF-8", "json", true), ("text/plain", "json", false),
        ("application/x-www-form-urlencoded", "application/x-www-form-urlencoded", true),
        ("APPLICATION/X-WWW-FORM-URLENCODED;charset=utf-8", "application/x-www-form-urlencoded", true),
        ("application/x-www-form", "application/x-www-form-urlencoded", false), ("", "json", false), ("jso", "json", false),
        ("multipart/form-data; boundary=jsonjs", "json", true), ("ünïcode/jsoN", "json", true),
    ])
    func matches(_ header: String, _ fragment: String, _ expected: Bool) {
        #expect(WebhookRoutes.contains(header, fragment) == expected)
        #expect(header.lowercased().contains(fragment) == expected, "the same answer as the check it replaces")
    }
}
