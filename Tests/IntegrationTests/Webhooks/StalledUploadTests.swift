import Foundation
import Glibc
import SwitchboardHTTP
import Synchronization
import Testing

/// Many raw connections that each sent some bytes and then nothing, opened from a few threads at once and watched
/// from one: when did the server close each of them, counted from its own send?
final class StalledClients: Sendable {
    let fds: [Int32]
    let sentAt: [ContinuousClock.Instant]

    init(count: Int, port: Int, sending text: String, openers: Int = 4) throws {
        let opened = Mutex<[(fd: Int32, at: ContinuousClock.Instant)]>([])
        let failures = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: openers) { k in
            for _ in stride(from: k, to: count, by: openers) {
                guard let client = try? RawClient(port: port) else {
                    failures.add(1, ordering: .relaxed)
                    continue
                }
                client.send(text)
                let fd = dup(client.fd)  // the RawClient closes its own descriptor as it goes
                opened.withLock { $0.append((fd, ContinuousClock.now)) }
            }
        }
        let all = opened.withLock { $0 }
        fds = all.map(\.fd)
        sentAt = all.map(\.at)
        if failures.load(ordering: .relaxed) > 0 { throw POSIXError(.ECONNREFUSED) }
    }

    deinit { for fd in fds { close(fd) } }

    /// Seconds from each connection's send until the server closed it (nil: still open at `limit`).
    func closings(within limit: Duration) async -> [Double?] {
        await withCheckedContinuation { continuation in
            let (fds, sentAt) = (self.fds, self.sentAt)
            let thread = Thread {
                let start = ContinuousClock.now
                var closedAfter = [Double?](repeating: nil, count: fds.count)
                var watched = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
                var index = Array(fds.indices)
                var buffer = [UInt8](repeating: 0, count: 512)
                while !watched.isEmpty, ContinuousClock.now - start < limit {
                    guard poll(&watched, nfds_t(watched.count), 100) > 0 else { continue }
                    var keep: [Int] = []
                    for k in watched.indices {
                        if watched[k].revents == 0 {
                            keep.append(k)
                            continue
                        }
                        let n = recv(watched[k].fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                        if n > 0 {
                            keep.append(k)  // an answer (408); the close follows
                        } else {
                            closedAfter[index[k]] = (ContinuousClock.now - sentAt[index[k]]).inSeconds
                        }
                    }
                    watched = keep.map { watched[$0] }
                    index = keep.map { index[$0] }
                    for k in watched.indices { watched[k].revents = 0 }
                }
                continuation.resume(returning: closedAfter)
            }
            thread.start()
        }
    }
}

/// Open descriptors of a process, from /proc.
func openFiles(of pid: pid_t) -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
}

@Suite("The web receiver under 2,000 stalled uploads")
struct StalledUploadTests {
    /// The attack from #24, bounded: 2,000 connections send a webhook's head with `Content-Length: 100000` and one byte
    /// of body, then nothing. The body deadline (8 s here) closes every one of them, the receiver's open files return to
    /// their baseline, a valid webhook sent meanwhile is answered as usual, and the log holds a line or two for them.
    @Test func twoThousandStalledBodiesAreClosedAtTheDeadlineAndCostNothingAfter() async throws {
        let stalled = 2000
        var limit = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        if limit.rlim_cur < rlim_t(stalled * 2 + 500) {
            limit.rlim_cur = min(limit.rlim_max, rlim_t(stalled * 2 + 500))
            setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        }
        try #require(limit.rlim_cur >= rlim_t(stalled * 2 + 500), "this test needs \(stalled * 2 + 500) open files (ulimit -n)")
        let h = try await WebhookHarness.make(web: false)
        try await h.startWeb(
            redisURL: try TestEnvironment.redisURL(), environment: ["WEB_BODY_TIMEOUT": "8s", "WEB_HEAD_TIMEOUT": "8s", "LOG_LEVEL": "info"])
        let web = try #require(h.web)
        // Baseline: one served request, so every lazily opened file (Redis, Postgres) is open already.
        #expect(try await h.whatsapp(try h.routed("wa_text.json")).status == 200)
        let baseline = openFiles(of: web.pid)

        let clock = ContinuousClock()
        let openingStarted = clock.now
        let clients = try StalledClients(
            count: stalled, port: web.port,
            sending: "POST /webhooks/whatsapp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")
        let openedIn = clock.now - openingStarted
        async let closings = clients.closings(within: .seconds(60))
        // The receiver holds every one whose deadline has not come yet, once it has accepted what waits in its backlog.
        let young = clients.sentAt.filter { clock.now - $0 < .seconds(6) }.count
        var during = openFiles(of: web.pid)
        for _ in 0..<10 where during < baseline + young {
            try await Task.sleep(for: .milliseconds(100))
            during = max(during, openFiles(of: web.pid))
        }

        // A valid webhook while they stall: answered as usual.
        let body = Array(
            String(decoding: try h.routed("wa_text.json"), as: UTF8.self).replacingOccurrences(of: "wamid.", with: "wamid.stalled-").utf8)
        let postedAt = clock.now
        let response = try await h.whatsapp(body)
        let answeredIn = clock.now - postedAt
        #expect(response.status == 200)
        #expect(answeredIn < .seconds(2), "a valid webhook is answered while 2,000 uploads stall (took \(answeredIn))")

        let closed = await closings
        let times = closed.compactMap { $0 }.sorted()
        #expect(times.count == stalled, "every stalled connection is closed (\(times.count) of \(stalled))")
        if let first = times.first, let last = times.last {
            #expect(first >= 7.5, "none is closed before the 8 s deadline (first after \(first) s)")
            #expect(last <= 8 + 5, "each is closed soon after it (last after \(last) s)")
            print(
                "2,000 stalled bodies, opened in \(openedIn): closed \(first) to \(last) s after each one's send (median \(times[times.count / 2]) s)"
            )
        }
        #expect(during >= baseline + young, "the receiver held them open while they stalled (\(during) files, baseline \(baseline))")
        var after = openFiles(of: web.pid)
        for _ in 0..<20 where after > baseline + 2 {
            try await Task.sleep(for: .milliseconds(250))
            after = openFiles(of: web.pid)
        }
        #expect(after <= baseline + 2, "open files return to the baseline (\(after), baseline \(baseline), \(during) during)")
        print("open files of web: baseline \(baseline), during \(during), after \(after); valid webhook answered in \(answeredIn)")

        let lines = h.webLog.split(separator: "\n").filter { $0.contains("body timeout") || $0.contains("went away") || $0.contains(" error ") }
        #expect(lines.count <= 3, "a handful of log lines for 2,000 stalled clients, not one each: \(lines.count)")
        #expect(!h.webLog.contains(" error "))
        withExtendedLifetime(clients) {}
        try await h.shutdown()
    }
}

extension Duration {
    fileprivate var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
