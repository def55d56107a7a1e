import SwitchboardProcess
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServiceLifecycle
import SwitchboardHTTP
import SwitchboardQueue
import SwitchboardRedis
import Synchronization
import Testing

/// A job that calls a server that never answers, with no timeout of its own: only its soft timeout can end it.
struct HangingCall: JobParameters {
    static let jobName = "test-hanging-call"
    static var timeout: Duration { .seconds(1) }
    static var retryPolicy: RetryPolicy { .never }
    let url: String
}

/// The libcurl client against a Hummingbird server on a loopback port chosen by the kernel.
@Suite("HTTP client", .timeLimit(.minutes(2)))
struct HTTPClientTests {
    func withTestServer(_ body: @Sendable (Int) async throws -> Void) async throws {
        let router = Router()
        router.get("/ok") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/plain", HTTPField.Name("X-Switchboard-Test")!: "yes"],
                body: .init(byteBuffer: ByteBuffer(string: "hello")))
        }
        router.post("/echo") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            return Response(status: .created, headers: [HTTPField.Name("X-Method")!: request.method.rawValue], body: .init(byteBuffer: body))
        }
        router.get("/missing") { _, _ -> Response in
            Response(status: .notFound, body: .init(byteBuffer: ByteBuffer(string: #"{"error":"no such thing"}"#)))
        }
        router.get("/boom") { _, _ -> Response in Response(status: .internalServerError, body: .init(byteBuffer: ByteBuffer(string: "kaput"))) }
        router.get("/slow") { _, _ -> String in
            try await Task.sleep(for: .seconds(3))
            return "late"
        }
        router.get("/hang") { _, _ -> String in
            try await Task.sleep(for: .seconds(8))  // longer than any caller here waits; the server's shutdown waits for it
            return "never"
        }
        router.get("/large") { _, _ -> Response in Response(status: .ok, body: .init(byteBuffer: ByteBuffer(repeating: 0x61, count: 64 * 1024))) }
        try await withLocalServer(router, label: "http-test-server", body)
    }

    @Test func successClientErrorAndServerErrorAllComeBackAsResponses() async throws {
        let http = HTTPClient()
        try await withTestServer { port in
            let ok = try await http.execute(.init(url: "http://127.0.0.1:\(port)/ok"))
            #expect(ok.status == 200)
            #expect(ok.text == "hello")
            #expect(ok.header("x-switchboard-test") == "yes")
            #expect(ok.header("Content-Type") == "text/plain")

            let echoed = try await http.execute(
                .init(
                    method: "POST", url: "http://127.0.0.1:\(port)/echo", headers: [.init("Content-Type", "application/octet-stream")],
                    body: [0, 1, 2, 0, 255]))
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
        let port = try freeLoopbackPort()
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

    @Test func cancellingTheCallerAbortsTheTransferAtOnce() async throws {
        let http = HTTPClient(poolSize: 1)
        try await withTestServer { port in
            let call = Task { try await http.execute(.init(url: "http://127.0.0.1:\(port)/hang", timeout: .seconds(60))) }
            try await Task.sleep(for: .milliseconds(300))
            let clock = ContinuousClock()
            let cancelledAt = clock.now
            call.cancel()
            let error = await #expect(throws: HTTPClientError.self) { try await call.value }
            let took = clock.now - cancelledAt
            print("HTTP cancellation: the transfer ended \(took) after the cancel")
            #expect(error?.code == .cancelled)
            // Against the request's 60 s timeout, seconds of margin: CI's load once took 1.38 s to get the curl thread
            // round to the abort.
            #expect(took < .seconds(5), "the transfer outlived its caller's cancellation by \(took)")
            // The one thread is free again: the next request goes through.
            #expect(try await http.execute(.init(url: "http://127.0.0.1:\(port)/ok")).status == 200)
        }
        try await http.shutdown()
    }

    @Test func connectionsAreReusedAndADeadlineShortensTheTimeout() async throws {
        let http = HTTPClient(poolSize: 1)
        try await withTestServer { port in
            let first = try await http.execute(.init(url: "http://127.0.0.1:\(port)/ok"))
            let second = try await http.execute(.init(method: "POST", url: "http://127.0.0.1:\(port)/echo", body: Array("x".utf8)))
            let third = try await http.execute(.init(url: "http://127.0.0.1:\(port)/ok"))
            #expect(first.newConnections == 1)
            #expect(second.newConnections == 0 && third.newConnections == 0, "the connection is kept between requests")

            let clock = ContinuousClock()
            let started = clock.now
            let late = await #expect(throws: HTTPClientError.self) {
                try await http.execute(.init(url: "http://127.0.0.1:\(port)/slow", timeout: .seconds(30), deadline: .now + .milliseconds(400)))
            }
            #expect(late?.code == .timedOut)
            #expect(clock.now - started < .seconds(2), "the deadline, not the 30 s timeout, ended it")
            let past = await #expect(throws: HTTPClientError.self) {
                try await http.execute(.init(url: "http://127.0.0.1:\(port)/ok", deadline: .now - .seconds(1)))
            }
            #expect(past?.code == .timedOut)
        }
        try await http.shutdown()
    }

    /// A job's soft timeout reaches curl: the hanging call ends, the job fails with a timeout, the worker's other jobs
    /// finish, and the hard timeout (which would take the whole process down) never fires.
    @Test func aJobsSoftTimeoutEndsItsHangingCallAndTheWorkerCarriesOn() async throws {
        let http = HTTPClient(poolSize: 2)
        let redis = try makeRedis()
        let queue = uniqueQueueName("http-timeout")
        let hardTimeouts = Mutex<[String]>([])
        try await withTestServer { port in
            var options = fastWorkerOptions(queue: queue)
            options.queues = [queue]
            options.hardTimeoutGrace = .seconds(3)
            options.onHardTimeout = { id in hardTimeouts.withLock { $0.append(id) } }
            try await withWorker(
                redis: redis, options: options,
                register: { registry in
                    registry.register(HangingCall.self) { p, _ in _ = try await http.execute(.init(url: p.url, timeout: .seconds(120))) }
                }
            ) { _ in
                let id = try await JobQueue(redis: redis).enqueue(HangingCall(url: "http://127.0.0.1:\(port)/hang"), options: .init(queue: queue))
                try await JobQueue(redis: redis).enqueue(batch: (0..<5).map { _ in DiagnosticJobs.Sleep(ms: 200) }, options: .init(queue: queue))
                try await expectEventually(timeout: .seconds(20)) { try await QueueInspector(redis: redis).job(id, queue: queue)?.state == "dead" }
                try await expectEventually { try await QueueInspector(redis: redis).stats(queue: queue).processedToday == 5 }
                let dead = try #require(try await QueueInspector(redis: redis).job(id, queue: queue))
                #expect(dead.errorsJSON?.contains("timeout") == true, "\(dead.errorsJSON ?? "")")
                try await Task.sleep(for: .seconds(4))  // past soft + hard grace: a stuck call would have tripped it
            }
        }
        #expect(hardTimeouts.withLock { $0 }.isEmpty, "the hard timeout fired: the call ignored its cancellation")
        try await redis.shutdown()
        try await http.shutdown()
    }
}
