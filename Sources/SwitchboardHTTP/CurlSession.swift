import CCurl

import Synchronization

/// Set when the task waiting for a transfer is cancelled; the transfer loop checks it between polls.
final class CancelFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func cancel() { flag.store(true, ordering: .relaxed) }
    var isCancelled: Bool { flag.load(ordering: .relaxed) }
}

/// Owns one `CURL *` easy handle and one `CURLM *` multi handle, reused request after request so connections (and
/// TLS sessions) stay in the multi handle's cache; both are cleaned up in `deinit`. Used by one thread at a time:
/// the client's pool hands it to exactly one request and takes it back after.
final class CurlSession: @unchecked Sendable {
    // @unchecked: the handles are only touched by the one thread running a request; the pool's mutex moves the
    // session between requests.
    private let handle: OpaquePointer
    private let multi: OpaquePointer

    init() {
        CurlGlobal.ensureInitialized()
        guard let h = curl_easy_init(), let m = curl_multi_init() else { fatalError("curl_easy_init/curl_multi_init returned NULL (out of memory)") }
        handle = OpaquePointer(h)
        multi = OpaquePointer(m)
    }

    deinit {
        curl_multi_cleanup(UnsafeMutableRawPointer(multi))
        curl_easy_cleanup(UnsafeMutableRawPointer(handle))
    }

    /// How often the transfer loop looks at the cancel flag when nothing happens on the socket.
    static let pollInterval: Int32 = 20

    /// Collects the response while curl runs; reached from the C callbacks through an unretained pointer
    /// that lives only for the duration of `perform`.
    private final class Collector {
        var body: [UInt8] = []
        var headers: [HTTPClient.HeaderField] = []
        var limit: Int
        var overflowed = false
        init(limit: Int) { self.limit = limit }
    }

    /// Runs `request` to completion (blocking this thread), unless `cancel` is set first: then the transfer is aborted
    /// within ``pollInterval`` ms. `timeout` is the total time allowed (the request's own, shortened by its deadline).
    func perform(_ request: HTTPClient.Request, timeout: Duration, cancel: CancelFlag) throws -> HTTPClient.Response {
        let h = UnsafeMutableRawPointer(handle)
        curl_easy_reset(h)  // options back to defaults; the multi handle keeps its connection cache
        guard request.url.hasPrefix("http://") || request.url.hasPrefix("https://") else {
            throw HTTPClientError(.invalidRequest, "only http:// and https:// URLs are supported")
        }
        guard !request.method.isEmpty, request.method.allSatisfy({ $0.isLetter && $0.isUppercase }) else {
            throw HTTPClientError(.invalidRequest, "the method must be an upper-case token such as GET or POST")
        }
        let collector = Collector(limit: request.maxResponseBytes)
        let context = Unmanaged.passUnretained(collector).toOpaque()
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)

        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        defer { curl_slist_free_all(headerList) }
        for field in request.headers {
            headerList = curl_slist_append(headerList, "\(field.name): \(field.value)")
        }
        if request.body != nil && !request.headers.contains(where: { $0.name.lowercased() == "expect" }) {
            headerList = curl_slist_append(headerList, "Expect:")  // no 100-continue round trip
        }

        return try withExtendedLifetime(collector) {
            try errorBuffer.withUnsafeMutableBufferPointer { errorBytes in
                sb_curl_setopt_string(h, CURLOPT_URL, request.url)
                sb_curl_setopt_string(h, CURLOPT_PROTOCOLS_STR, "http,https")
                sb_curl_setopt_string(h, CURLOPT_CUSTOMREQUEST, request.method)
                sb_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
                sb_curl_setopt_long(h, CURLOPT_SSL_VERIFYPEER, 1)
                sb_curl_setopt_long(h, CURLOPT_SSL_VERIFYHOST, 2)
                sb_curl_setopt_long(h, CURLOPT_FOLLOWLOCATION, 0)
                sb_curl_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, milliseconds(request.connectTimeout))
                sb_curl_setopt_long(h, CURLOPT_TIMEOUT_MS, milliseconds(timeout))
                sb_curl_setopt_pointer(h, CURLOPT_ERRORBUFFER, errorBytes.baseAddress)
                sb_curl_setopt_slist(h, CURLOPT_HTTPHEADER, headerList)
                if request.method == "HEAD" { sb_curl_setopt_long(h, CURLOPT_NOBODY, 1) }
                sb_curl_setopt_write_callback(h, CURLOPT_WRITEFUNCTION) { data, size, count, userdata in
                    let collector = Unmanaged<Collector>.fromOpaque(userdata!).takeUnretainedValue()
                    let n = size * count
                    if collector.body.count + n > collector.limit {
                        collector.overflowed = true
                        return 0  // makes curl stop with CURLE_WRITE_ERROR
                    }
                    collector.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: n))
                    return n
                }
                sb_curl_setopt_pointer(h, CURLOPT_WRITEDATA, context)
                sb_curl_setopt_write_callback(h, CURLOPT_HEADERFUNCTION) { data, size, count, userdata in
                    let collector = Unmanaged<Collector>.fromOpaque(userdata!).takeUnretainedValue()
                    let n = size * count
                    let line = String(decoding: UnsafeRawBufferPointer(start: data, count: n), as: UTF8.self)
                    if line.hasPrefix("HTTP/") {
                        collector.headers.removeAll()  // a new response (after 1xx or a proxy) starts here
                    } else if let colon = line.firstIndex(of: ":") {
                        let name = String(line[..<colon])
                        let value = line[line.index(after: colon)...].trimmingCharacters(in: " \t\r\n")
                        collector.headers.append(.init(name, value))
                    }
                    return n
                }
                sb_curl_setopt_pointer(h, CURLOPT_HEADERDATA, context)

                let code: CURLcode
                if let body = request.body {
                    code = try body.withUnsafeBufferPointer { bytes in
                        sb_curl_setopt_off_t(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bytes.count))
                        // POSTFIELDS points at our bytes, valid for the whole transfer inside this closure.
                        sb_curl_setopt_pointer(
                            h, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress ?? UnsafePointer(bitPattern: 1)!))
                        return try transfer(cancel: cancel, request: request)
                    }
                } else {
                    code = try transfer(cancel: cancel, request: request)
                }
                guard code == CURLE_OK else {
                    let detail = String(cString: errorBytes.baseAddress!)
                    throw mapError(
                        code, detail: detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail, collector: collector, request: request)
                }
                var status = 0
                sb_curl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
                var connects = 0
                sb_curl_getinfo_long(h, CURLINFO_NUM_CONNECTS, &connects)
                return HTTPClient.Response(status: status, headers: collector.headers, body: collector.body, newConnections: connects)
            }
        }
    }

    /// Drives the easy handle through the multi handle until it is done, checking `cancel` between polls.
    private func transfer(cancel: CancelFlag, request: HTTPClient.Request) throws -> CURLcode {
        let (h, m) = (UnsafeMutableRawPointer(handle), UnsafeMutableRawPointer(multi))
        guard curl_multi_add_handle(m, h) == CURLM_OK else {
            throw HTTPClientError(.transport, "curl_multi_add_handle failed")
        }
        defer { curl_multi_remove_handle(m, h) }
        var running: Int32 = 1
        while running > 0 {
            if cancel.isCancelled {
                throw HTTPClientError(.cancelled, "\(request.method) \(hostPart(of: request.url)) was cancelled by its caller")
            }
            let performed = curl_multi_perform(m, &running)
            guard performed == CURLM_OK else { throw HTTPClientError(.transport, "curl_multi_perform failed: \(performed.rawValue)") }
            if running > 0 { _ = curl_multi_poll(m, nil, 0, Self.pollInterval, nil) }
        }
        var left: Int32 = 0
        while let message = curl_multi_info_read(m, &left) {
            if message.pointee.msg == CURLMSG_DONE { return message.pointee.data.result }
        }
        throw HTTPClientError(.transport, "curl finished without a result")
    }

    private func mapError(_ code: CURLcode, detail: String, collector: Collector, request: HTTPClient.Request) -> HTTPClientError {
        let host = hostPart(of: request.url)
        let raw = Int(code.rawValue)
        switch code {
        case CURLE_COULDNT_CONNECT:
            return HTTPClientError(.connectionRefused, "cannot connect to \(host): \(detail)", curlCode: raw)
        case CURLE_COULDNT_RESOLVE_HOST:
            return HTTPClientError(.hostNotFound, "cannot resolve \(host)", curlCode: raw)
        case CURLE_OPERATION_TIMEDOUT:
            return HTTPClientError(
                .timedOut,
                "\(request.method) \(host) did not finish within its timeout (connect \(request.connectTimeout), total \(request.timeout))",
                curlCode: raw)
        case CURLE_WRITE_ERROR where collector.overflowed:
            return HTTPClientError(.responseTooLarge, "the response from \(host) is larger than \(request.maxResponseBytes) bytes", curlCode: raw)
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CACERT_BADFILE:
            return HTTPClientError(.tlsFailure, "TLS with \(host) failed: \(detail)", curlCode: raw)
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
            return HTTPClientError(.invalidRequest, "the URL is not usable: \(detail)", curlCode: raw)
        default:
            return HTTPClientError(.transport, "\(request.method) \(host) failed: \(detail)", curlCode: raw)
        }
    }
}

/// `scheme://host[:port]` of a URL: what errors name (paths and queries can hold tokens).
func hostPart(of url: String) -> String {
    guard let schemeEnd = url.firstRange(of: "://") else { return "the server" }
    let afterScheme = url[schemeEnd.upperBound...]
    let authority = afterScheme.prefix(while: { $0 != "/" && $0 != "?" && $0 != "#" })
    let hostPort = authority.split(separator: "@").last.map(String.init) ?? String(authority)
    return String(url[..<schemeEnd.upperBound]) + hostPort
}

private func milliseconds(_ d: Duration) -> Int {
    let (s, a) = d.components
    return max(1, Int(s) * 1000 + Int(a / 1_000_000_000_000_000))
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        String(self.drop(while: { set.contains($0) }).reversed().drop(while: { set.contains($0) }).reversed())
    }
}
extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> String { String(self).trimmingCharacters(in: set) }
}
