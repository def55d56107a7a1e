import Foundation
import Glibc
import Synchronization
import Testing

/// A raw TCP client for the guard's tests: it sends exactly the bytes given and reports when the server closes. Its
/// blocking calls run on threads of their own, never on the cooperative pool.
final class RawClient: Sendable {
    let fd: Int32
    /// When the connection opened or last sent: what a server's deadline counts from.
    private let lastActivity = Mutex(ContinuousClock.now)

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
    }

    deinit { close(fd) }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        lastActivity.withLock { $0 = .now }
    }

    /// Reads until the server closes the connection or `limit` passes; returns what came and how long after the
    /// connection's last activity (its opening or last send) it closed, or nil when it was still open at `limit`.
    /// Counting from the last activity, not from this call, keeps a call that starts late (a loaded machine) from
    /// reading an on-time close as an early one.
    func closed(within limit: Duration) async -> (bytes: [UInt8], after: Duration)? {
        let since = lastActivity.withLock { $0 }
        return await withCheckedContinuation { continuation in
            let fd = self.fd
            let thread = Thread {
                let start = ContinuousClock.now
                var received: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 4096)
                while ContinuousClock.now - start < limit {
                    var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                    guard poll(&p, 1, 50) > 0 else { continue }
                    let n = recv(fd, &buffer, buffer.count, 0)
                    if n <= 0 { return continuation.resume(returning: (received, ContinuousClock.now - since)) }
                    received += buffer.prefix(n)
                }
                continuation.resume(returning: nil)
            }
            thread.start()
        }
    }
}

@Suite("The web receiver against slow and idle clients")
struct ConnectionGuardTests {
    @Test func stalledAndIdleConnectionsAreClosedAndTheCapRefusesMore() async throws {
        let h = try await WebhookHarness.make(web: false)
        try await h.startWeb(
            redisURL: try TestEnvironment.redisURL(),
            environment: [
                "WEB_IDLE_TIMEOUT": "2s", "WEB_HEAD_TIMEOUT": "2s", "WEB_BODY_TIMEOUT": "3s", "WEB_MAX_CONNECTIONS": "6", "LOG_LEVEL": "info",
            ])
        let port = h.web!.port

        // A body that never comes (the attack: a webhook's head, Content-Length 100000, one byte): closed at the body
        // deadline, not left open.
        let slowBody = try RawClient(port: port)
        slowBody.send("POST /webhooks/whatsapp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")
        // A head that never ends, and a connection that never says anything.
        let slowHead = try RawClient(port: port)
        slowHead.send("POST /webhooks/whatsapp HTTP/1.1\r\nHost: x\r\n")
        let silent = try RawClient(port: port)
        async let body = slowBody.closed(within: .seconds(20))
        async let head = slowHead.closed(within: .seconds(20))
        async let idle = silent.closed(within: .seconds(20))
        let (b, hd, i) = await (body, head, idle)
        #expect(b != nil && b!.after >= .seconds(2), "a stalled body is closed after its deadline (3 s), not before")
        #expect(hd != nil && hd!.after >= .seconds(1), "a stalled head is closed after its deadline (2 s)")
        #expect(i != nil && i!.after >= .seconds(1), "a silent connection is closed after the idle timeout (2 s)")

        // A complete request is still answered, and its keep-alive connection closed once idle.
        let ok = try RawClient(port: port)
        ok.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        let answered = await ok.closed(within: .seconds(20))
        #expect(answered.map { String(decoding: $0.bytes, as: UTF8.self).hasPrefix("HTTP/1.1 200") } == true)

        // Six open connections fill the cap: a seventh is closed at once, the six stay open, and once they go a new
        // one is served again.
        let six = try (0..<6).map { _ in try RawClient(port: port) }
        try await Task.sleep(for: .milliseconds(300))
        let seventh = try RawClient(port: port)
        let refused = await seventh.closed(within: .seconds(1))
        #expect(refused != nil && refused!.bytes.isEmpty, "the connection past the cap is closed without an answer")
        for c in six { c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n") }
        for c in six {
            let r = await c.closed(within: .seconds(20))
            #expect(r.map { String(decoding: $0.bytes, as: UTF8.self).hasPrefix("HTTP/1.1 200") } == true, "admitted connections are served")
        }
        let again = try RawClient(port: port)
        again.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(await again.closed(within: .seconds(20)).map { String(decoding: $0.bytes, as: UTF8.self).hasPrefix("HTTP/1.1 200") } == true)

        // Clients that go away mid-body: never an error line, at most one notice per kind every 10 s.
        for _ in 0..<20 {
            let gone = try RawClient(port: port)
            gone.send("POST /webhooks/whatsapp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{\"a\":")
            try await Task.sleep(for: .milliseconds(20))
            _ = gone  // closed when it goes out of scope
        }
        try await Task.sleep(for: .milliseconds(500))
        let log = h.webLog
        #expect(!log.contains(" error "), "no error lines: \(log)")
        #expect(log.components(separatedBy: "the client went away").count - 1 <= 2, "departures are logged at most once per 10 s: \(log)")
        #expect(log.contains("the connection limit is reached"))
        #expect(log.contains("the request body did not arrive within the body timeout"))
        try await h.shutdown()
    }
}
