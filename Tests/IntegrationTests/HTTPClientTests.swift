import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServiceLifecycle
import SwitchboardHTTP
import Testing

/// The libcurl client against a Hummingbird server on a loopback port chosen by the kernel.
@Suite("HTTP client", .timeLimit(.minutes(2)))
struct HTTPClientTests {
    func withTestServer(_ body: @Sendable (Int) async throws -> Void) async throws {
        let router = Router()
        router.get("/ok") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain", HTTPField.Name("X-Switchboard-Test")!: "yes"], body: .init(byteBuffer: ByteBuffer(string: "hello")))
        }
        router.post("/echo") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            return Response(status: .created, headers: [HTTPField.Name("X-Method")!: request.method.rawValue], body: .init(byteBuffer: body))
        }
        router.get("/missing") { _, _ -> Response in Response(status: .notFound, body: .init(byteBuffer: ByteBuffer(string: #"{"error":"no such thing"}"#))) }
        router.get("/boom") { _, _ -> Response in Response(status: .internalServerError, body: .init(byteBuffer: ByteBuffer(string: "kaput"))) }
        router.get("/slow") { _, _ -> String in
            try await Task.sleep(for: .seconds(3))
            return "late"
        }
        router.get("/large") { _, _ -> Response in Response(status: .ok, body: .init(byteBuffer: ByteBuffer(repeating: 0x61, count: 64 * 1024))) }
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in portContinuation.yield(channel.localAddress?.port ?? 0) },
            logger: Logger(label: "http-test-server"))
        let group = ServiceGroup(configuration: .init(services: [app], logger: Logger(label: "http-test-server")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw CancellationError() }
            do {
                try await body(port)
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    @Test func successClientErrorAndServerErrorAllComeBackAsResponses() async throws {
        let http = HTTPClient()
        try await withTestServer { port in
            let ok = try await http.execute(.init(url: "http://127.0.0.1:\(port)/ok"))
            #expect(ok.status == 200)
            #expect(ok.text == "hello")
            #expect(ok.header("x-switchboard-test") == "yes")
            #expect(ok.header("Content-Type") == "text/plain")

            let echoed = try await http.execute(.init(
                method: "POST", url: "http://127.0.0.1:\(port)/echo", headers: [.init("Content-Type", "application/octet-stream")], body: [0, 1, 2, 0, 255]))
            #expect(echoed.status == 201)
            #expect(echoed.body == [0, 1, 2, 0, 255])
            #expect(echoed.header("x-method") == "POST")

            let missing = try await http.execute(.init(url: "http://127.0.0.1:\(port)/missing"))
            #expect(missing.status == 404)
            #expect(missing.text == #"{"error":"no such thing"}"#)
            let boom = try await http.execute(.init(url: "http://127.0.0.1:\(port)/boom"))
            #expect(boom.status == 500)
            #expect(boom.text == "kaput")
        }
        try await http.shutdown()
    }

    @Test func theTotalTimeoutFires() async throws {
        let http = HTTPClient()
        try await withTestServer { port in
            let clock = ContinuousClock()
            let started = clock.now
            let error = await #expect(throws: HTTPClientError.self) {
                try await http.execute(.init(url: "http://127.0.0.1:\(port)/slow", timeout: .milliseconds(500)))
            }
            let elapsed = clock.now - started
            #expect(error?.code == .timedOut)
            #expect(elapsed >= .milliseconds(450))
            #expect(elapsed < .milliseconds(2500))
        }
        try await http.shutdown()
    }

    @Test func aBodyOverTheLimitIsRefused() async throws {
        let http = HTTPClient()
        try await withTestServer { port in
            let error = await #expect(throws: HTTPClientError.self) {
                try await http.execute(.init(url: "http://127.0.0.1:\(port)/large", maxResponseBytes: 1000))
            }
            #expect(error?.code == .responseTooLarge)
            let full = try await http.execute(.init(url: "http://127.0.0.1:\(port)/large"))
            #expect(full.body.count == 64 * 1024)
        }
        try await http.shutdown()
    }

    @Test func connectionRefusedAndBadURLsAreClearErrors() async throws {
        let http = HTTPClient()
        let port = try freePort()
        let refused = await #expect(throws: HTTPClientError.self) {
            try await http.execute(.init(url: "http://127.0.0.1:\(port)/x?token=secret"))
        }
        #expect(refused?.code == .connectionRefused)
        #expect(refused?.message.contains("127.0.0.1:\(port)") == true)
        #expect(refused?.message.contains("secret") == false)
        let scheme = await #expect(throws: HTTPClientError.self) { try await http.execute(.init(url: "file:///etc/passwd")) }
        #expect(scheme?.code == .invalidRequest)
        try await http.shutdown()
    }
}
