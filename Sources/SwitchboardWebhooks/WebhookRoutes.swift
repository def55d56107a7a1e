import FoundationEssentials
public import Hummingbird
import HTTPTypes
public import Logging
import NIOCore
import Metrics
import Synchronization
import SwitchboardQueue
import Jobs
import SwitchboardStore
import SwitchboardJSON

/// The provider webhooks, on a Hummingbird router:
///
/// | route | provider | verifies | routes by |
/// |---|---|---|---|
/// | `GET /webhooks/whatsapp` | Meta's handshake | `hub.verify_token` against every WhatsApp channel | — |
/// | `POST /webhooks/whatsapp` | WhatsApp Cloud API | `X-Hub-Signature-256` with the channel's app secret | `metadata.phone_number_id` |
/// | `POST /webhooks/twilio` | Twilio SMS / WhatsApp | `X-Twilio-Signature` with the channel's auth token | `To` |
/// | `POST /webhooks/email` | Postmark-style inbound JSON | basic-auth password, `?token=` or `X-Switchboard-Token` | recipient address |
///
/// Answers: 200 only once Redis has accepted every job of the request; 503 with `Retry-After` when Redis or the
/// channel store is unavailable (the provider retries, the unique keys absorb the repeat); 413 past the body limit;
/// 415 for a content type the provider never sends; 400 malformed; 401 bad signature or token; a request for an
/// address no tenant owns is answered 200 and dropped with a log line. Errors are short JSON, never the payload.
public struct WebhookRoutes: Sendable {
    public struct Options: Sendable {
        /// Bodies larger than this get 413. Default 1 MB.
        public var maxBodyBytes = 1 << 20
        /// The public base URL the service is reached at (`https://hooks.example.com`), for Twilio's signature,
        /// which covers the URL Twilio called. Nil: rebuilt from `X-Forwarded-Proto`/`Host`.
        public var publicBaseURL: String? = nil
        public init() {}
    }

    let router: ChannelRouter
    let intake: WebhookIntake
    let options: Options
    let logger: Logger
    let metrics = WebhookMetrics()

    public init(router: ChannelRouter, intake: WebhookIntake, options: Options = .init(), logger: Logger) {
        self.router = router
        self.intake = intake
        self.options = options
        self.logger = logger
    }

    public func register<Context: RequestContext>(on r: Router<Context>) {
        r.get("/webhooks/whatsapp") { request, _ in await self.handshake(request) }
        r.post("/webhooks/whatsapp") { request, _ in await self.handle("whatsapp", request, self.whatsapp) }
        r.post("/webhooks/twilio") { request, _ in await self.handle("twilio", request, self.twilio) }
        r.post("/webhooks/email") { request, _ in await self.handle("email", request, self.email) }
    }

    // MARK: - Common handling

    /// Collects the body within the limit, runs the provider's handler, and turns every failure into its answer.
    private func handle(_ provider: String, _ request: Request, _ body: (Request, [UInt8], Int64) async throws -> Response) async -> Response {
        var request = request
        let response: Response
        let bytes: [UInt8]
        do {
            let buffer = try await request.collectBody(upTo: options.maxBodyBytes)
            bytes = buffer.getBytes(at: buffer.readerIndex, length: buffer.readableBytes) ?? []
        } catch is NIOTooManyBytesError {
            metrics.request(provider: provider, status: 413)
            return Self.json(413, ["error": "too_large", "message": "the body is larger than \(options.maxBodyBytes) bytes"])
        } catch {
            // The client went away mid-body, or the connection guard closed it for stalling: nobody is left to answer,
            // and the guard counts and logs these at a rate that cannot flood the log.
            metrics.request(provider: provider, status: 408)
            return Response(status: .requestTimeout)
        }
        do {
            response = try await body(request, bytes, Int64(Date().timeIntervalSince1970 * 1000))
        } catch let error as WebhookRejection {
            logger.notice("webhook rejected", metadata: ["provider": "\(provider)", "status": "\(error.status)", "reason": "\(error.message)"])
            response = Self.json(error.status, ["error": error.code, "message": error.message])
        } catch let error as WebhookIntake.Unavailable {
            logger.error("webhook not accepted: queue unavailable", metadata: ["provider": "\(provider)", "error": "\(error)"])
            response = Self.unavailable("the queue is unavailable; retry later")
        } catch {
            logger.error("webhook not accepted", metadata: ["provider": "\(provider)", "error": "\(type(of: error)): \(error)"])
            response = Self.unavailable("a dependency is unavailable; retry later")
        }
        metrics.request(provider: provider, status: response.status.code)
        return response
    }

    private func requireContentType(_ request: Request, _ fragment: String, _ expected: String) throws(WebhookRejection) {
        guard let type = request.headers[.contentType], Self.contains(type, fragment) else {
            throw WebhookRejection(status: 415, code: "unsupported_media_type", message: "expected \(expected)")
        }
    }

    /// Whether `text` holds `fragment` (lower-case ASCII), ignoring ASCII case. Compared byte by byte: the standard
    /// library's `String.contains(_:)` cost 3 % of the receiver's CPU per request (`perf`, docs/benchmarks.md).
    static func contains(_ text: String, _ fragment: String) -> Bool {
        let haystack = Array(text.utf8)
        let needle = Array(fragment.utf8)
        guard !needle.isEmpty else { return true }
        guard haystack.count >= needle.count else { return false }
        for start in 0...(haystack.count - needle.count) {
            var k = 0
            while k < needle.count {
                var b = haystack[start + k]
                if b >= 65 && b <= 90 { b += 32 }  // A-Z → a-z
                if b != needle[k] { break }
                k += 1
            }
            if k == needle.count { return true }
        }
        return false
    }

    private func decodeJSON(_ bytes: [UInt8]) throws(WebhookRejection) -> JSONValue {
        do {
            return try JSONValue.parse(bytes)
        } catch {
            throw .badRequest("the body is not valid JSON (\(error.reason) at byte \(error.offset))")
        }
    }

    /// `{"accepted": jobs enqueued, "dropped": events no tenant owns or without an id}` (written directly: the hot path).
    private func accepted(_ jobs: Int, dropped: Int = 0) -> Response {
        metrics.jobs.increment(by: jobs)
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: "{\"accepted\":\(jobs),\"dropped\":\(dropped)}")))
    }

    static func json(_ status: Int, _ fields: [String: some Encodable]) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let body = (try? encoder.encode(fields)) ?? Data("{}".utf8)
        return Response(
            status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func unavailable(_ message: String) -> Response {
        var response = json(503, ["error": "unavailable", "message": message])
        response.headers[.retryAfter] = "5"
        return response
    }

    // MARK: - WhatsApp

    private func handshake(_ request: Request) async -> Response {
        let q = request.uri.queryParameters
        guard q["hub.mode"] == "subscribe", let token = q["hub.verify_token"], let challenge = q["hub.challenge"] else {
            return Self.json(403, ["error": "forbidden", "message": "not a subscription handshake"])
        }
        do {
            let tokens = try await router.whatsappVerifyTokens()
            guard tokens.contains(where: { WebhookSignature.constantTimeEqual(Array($0.utf8), Array(token.utf8)) }) else {
                return Self.json(403, ["error": "forbidden", "message": "the verify token matches no WhatsApp channel"])
            }
        } catch {
            logger.error("handshake: channel store unavailable", metadata: ["error": "\(error)"])
            return Self.unavailable("the channel store is unavailable")
        }
        return Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: String(challenge))))
    }

    private func whatsapp(_ request: Request, _ body: [UInt8], _ now: Int64) async throws -> Response {
        try requireContentType(request, "json", "application/json")
        let (groups, _) = try ProviderEvents.whatsappGroups(try decodeJSON(body))
        let signature = request.headers[HTTPField.Name("X-Hub-Signature-256")!]
        var jobs: [JobQueue.NewJob] = []
        var marks: [IntakeMark] = []
        var dropped = 0
        var verified: Set<String> = []
        for group in groups {
            guard let route = try await router.route(.whatsapp, group.phoneNumberID) else {
                dropped += 1
                logger.notice("WhatsApp event for a number no tenant owns: dropped", metadata: ["phone_number_id": "\(group.phoneNumberID)"])
                continue
            }
            guard let secret = route.secrets.appSecret else { throw WebhookRejection.unauthorized("the channel has no app secret configured") }
            if !verified.contains(secret) {
                guard WebhookSignature.verifyMeta(body: body, header: signature, appSecret: secret) else {
                    throw WebhookRejection.unauthorized("X-Hub-Signature-256 does not match the body")
                }
                verified.insert(secret)
            }
            let made = ProviderEvents.whatsappJobs(group, tenant: route.tenant, channel: route.channel, receivedAtMs: now)
            jobs += made.jobs
            marks += made.marks
            dropped += made.skipped
        }
        let ids = try await intake.accept(jobs, marks: marks)
        return accepted(Set(ids).count, dropped: dropped)
    }

    // MARK: - Twilio

    private func twilio(_ request: Request, _ body: [UInt8], _ now: Int64) async throws -> Response {
        try requireContentType(request, "application/x-www-form-urlencoded", "application/x-www-form-urlencoded")
        let form: [(String, String)]
        do { form = try FormBody.parse(body) } catch { throw WebhookRejection.badRequest(error.description) }
        // A status callback of a message we sent comes from our number; a customer's message is to it.
        let isStatus = form.contains { $0.0 == "MessageStatus" } && form.last(where: { $0.0 == "SmsStatus" })?.1 != "received"
        guard let to = form.last(where: { $0.0 == (isStatus ? "From" : "To") })?.1, !to.isEmpty else {
            throw WebhookRejection.badRequest("a Twilio request without \(isStatus ? "From" : "To")")
        }
        let number = to.hasPrefix("whatsapp:") ? String(to.dropFirst("whatsapp:".count)) : to
        guard let route = try await router.route(.twilio, number) else {
            logger.notice("Twilio message for a number no tenant owns: dropped", metadata: ["to": "\(number)"])
            return Self.twiml()
        }
        guard let token = route.secrets.authToken else { throw WebhookRejection.unauthorized("the channel has no auth token configured") }
        let url = publicURL(request)
        guard
            WebhookSignature.verifyTwilio(
                url: url, parameters: form, header: request.headers[HTTPField.Name("X-Twilio-Signature")!], authToken: token)
        else {
            throw WebhookRejection.unauthorized("X-Twilio-Signature does not match the URL and parameters")
        }
        // Our send's reference rides on the StatusCallback URL (signed with it): it joins the status's fields.
        var fields = form
        if isStatus, let reference = request.uri.queryParameters.get("sb_ref"), !reference.isEmpty { fields.append(("sb_ref", reference)) }
        let made = try ProviderEvents.twilioJob(fields, tenant: route.tenant, channel: route.channel, receivedAtMs: now)
        try await intake.accept([made.job], marks: made.mark.map { [$0] } ?? [])
        metrics.jobs.increment()
        return Self.twiml()
    }

    /// The URL Twilio called, as it signed it: the configured public base, else scheme and host from the request.
    func publicURL(_ request: Request) -> String {
        let pathAndQuery = request.uri.string.hasPrefix("/") ? request.uri.string : request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
        if let base = options.publicBaseURL {
            return (base.hasSuffix("/") ? String(base.dropLast()) : base) + pathAndQuery
        }
        let scheme = request.headers[HTTPField.Name("X-Forwarded-Proto")!] ?? "http"
        let host = request.headers[HTTPField.Name("X-Forwarded-Host")!] ?? request.head.authority ?? "localhost"
        return "\(scheme)://\(host)\(pathAndQuery)"
    }

    static func twiml() -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/xml"],
            body: .init(byteBuffer: ByteBuffer(string: "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>")))
    }

    // MARK: - Email

    private func email(_ request: Request, _ body: [UInt8], _ now: Int64) async throws -> Response {
        try requireContentType(request, "json", "application/json")
        let mail = try decodeJSON(body)
        guard mail.isObject else { throw WebhookRejection.badRequest("an inbound email is a JSON object") }
        var found: ChannelRouter.Route? = nil
        for address in try ProviderEvents.emailRecipients(mail) where found == nil {
            found = try await router.route(.email, address)
        }
        guard let route = found else {
            logger.notice("email for an address no tenant owns: dropped")
            return accepted(0, dropped: 1)
        }
        guard let expected = route.secrets.inboundToken, let given = Self.inboundToken(request),
            WebhookSignature.constantTimeEqual(Array(expected.utf8), Array(given.utf8))
        else { throw WebhookRejection(status: 401, code: "bad_token", message: "missing or wrong inbound token") }
        let made = try ProviderEvents.emailJob(mail, tenant: route.tenant, channel: route.channel, receivedAtMs: now)
        try await intake.accept([made.job], marks: made.mark.map { [$0] } ?? [])
        return accepted(1)
    }

    /// The token from basic auth (its password), `X-Switchboard-Token`, or `?token=`.
    static func inboundToken(_ request: Request) -> String? {
        if let auth = request.headers[.authorization], auth.lowercased().hasPrefix("basic "),
            let decoded = Data(base64Encoded: String(auth.dropFirst(6))), let text = String(data: decoded, encoding: .utf8),
            let colon = text.firstIndex(of: ":")
        {
            return String(text[text.index(after: colon)...])
        }
        if let header = request.headers[HTTPField.Name("X-Switchboard-Token")!] { return header }
        return request.uri.queryParameters["token"].map(String.init)
    }
}

/// The receiver's counters, made once (a metrics factory lookup per request cost measurable CPU at 10k req/s).
final class WebhookMetrics: Sendable {
    let jobs = Counter(label: "switchboard_webhook_jobs_total")
    private let requests = Mutex<[String: Counter]>([:])

    func request(provider: String, status: Int) {
        let key = "\(provider) \(status)"
        let counter = requests.withLock { counters in
            if let c = counters[key] { return c }
            let c = Counter(label: "switchboard_webhook_requests_total", dimensions: [("provider", provider), ("status", String(status))])
            counters[key] = c
            return c
        }
        counter.increment()
    }
}
